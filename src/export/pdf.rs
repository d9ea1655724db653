//! PDF output: one label per page at its physical size, the raster embedded as
//! a Flate-compressed 1-bit DeviceGray image that fills the page, so a printer
//! at the label's resolution prints it dot for dot.
//!
//! [`PdfWriter`] streams pages to any [`Write`] as they come: it keeps only the
//! byte offsets of the objects written so far (24 bytes a page), never a
//! raster, so a 100,000-label PDF needs a few megabytes of memory.
//! [`PdfPage::new`] does the expensive part (compression) and can run on worker
//! threads, the pages then being written in order.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use pdf_writer::writers::{Catalog, DocumentInfo};
use pdf_writer::{Chunk, Content, Filter, Finish, Name, Rect, Ref, TextStr};

use crate::export::ExportError;
use crate::render::Bitmap;

/// The fixed `/Producer` of every PDF this crate writes.
const PRODUCER: &str = concat!("waybill-redact ", env!("CARGO_PKG_VERSION"));
/// Object numbers: 1 catalog, 2 page tree, 3 document info, then three a page.
const CATALOG: i32 = 1;
const PAGE_TREE: i32 = 2;
const INFO: i32 = 3;
const FIRST_PAGE_OBJ: i32 = 4;
/// PDF viewers reject pages above 14,400 units (200 in) a side.
const MAX_POINTS: f32 = 14_400.0;

/// Options for [`to_pdf`] and [`PdfWriter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfOptions {
    title: Option<String>,
    level: u32,
}

impl Default for PdfOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl PdfOptions {
    /// No title, fast compression.
    pub fn new() -> Self {
        Self {
            title: None,
            level: 1,
        }
    }

    /// A document `/Title`. Never put personal data here: it is not masked.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// zlib level for the image streams, 0 (store) to 9 (smallest). The default 1
    /// is the fastest.
    pub fn compression_level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }
}

/// One label, compressed and ready to be written as a PDF page. Holds only the
/// compressed image (typically 5 to 15 KB for a 100x150 mm label at 203 dpi).
#[derive(Debug, Clone)]
pub struct PdfPage {
    width: u32,
    height: u32,
    width_pt: f32,
    height_pt: f32,
    image: Vec<u8>,
}

impl PdfPage {
    /// Compresses `bitmap`, rendered at `dpi`, into a page of `width / dpi`
    /// by `height / dpi` inches.
    ///
    /// # Errors
    /// [`ExportError::InvalidSize`] for an empty raster or a page above 200 in,
    /// [`ExportError::Dpi`] outside 1..=9600, [`ExportError::InvalidOption`] for a
    /// compression level above 9.
    pub fn new(bitmap: &Bitmap, dpi: u16, opts: &PdfOptions) -> Result<Self, ExportError> {
        let (w, h) = (bitmap.width(), bitmap.height());
        if !(1..=9600).contains(&dpi) {
            return Err(ExportError::Dpi { dpi });
        }
        if opts.level > 9 {
            return Err(ExportError::InvalidOption {
                reason: "compression level must be 0 to 9",
            });
        }
        let width_pt = points(w, u32::from(dpi));
        let height_pt = points(h, u32::from(dpi));
        if w == 0 || h == 0 || width_pt > MAX_POINTS || height_pt > MAX_POINTS {
            return Err(ExportError::InvalidSize {
                width: w,
                height: h,
                reason: "a PDF page must be non-empty and at most 200 in a side",
            });
        }
        let raw = bitmap.as_bytes();
        let mut enc = ZlibEncoder::new(
            Vec::with_capacity(raw.len() / 8),
            Compression::new(opts.level),
        );
        enc.write_all(raw).map_err(ExportError::Io)?;
        let image = enc.finish().map_err(ExportError::Io)?;
        Ok(Self {
            width: w,
            height: h,
            width_pt,
            height_pt,
            image,
        })
    }

    /// Size of the compressed image in bytes.
    pub fn compressed_len(&self) -> usize {
        self.image.len()
    }
}

/// Dots to PostScript points (1/72 in), as the largest `f32` whose written
/// decimal form is strictly below the exact size. Renderers size the page and
/// the image by rounding `points * dpi / 72` up; a hair above the exact value
/// makes them one dot larger and resample (blur) the whole raster, a hair
/// below gives exactly `dots` pixels (checked with poppler at 203 and 300 dpi).
fn points(dots: u32, dpi: u32) -> f32 {
    let exact = f64::from(dots) * 72.0 / f64::from(dpi);
    let mut p = exact as f32;
    // At most a few steps: each moves down one f32 ulp. Stops at 0 for safety.
    while p > 0.0 && format!("{p}").parse::<f64>().map_or(true, |d| d >= exact) {
        p = f32::from_bits(p.to_bits() - 1);
    }
    p
}

/// Writes a multi-page PDF to `W` one page at a time.
///
/// Output is deterministic: the same pages and options give the same bytes
/// (fixed `/Producer`, no dates, no file ID).
///
/// ```
/// use waybill_redact::{Bitmap, PdfOptions, PdfPage, PdfWriter};
///
/// let opts = PdfOptions::new();
/// let mut pdf = PdfWriter::new(Vec::new(), &opts)?; // or a BufWriter<File>
/// for _ in 0..3 {
///     let raster = Bitmap::new(800, 1200); // from the renderer
///     pdf.push(&PdfPage::new(&raster, 203, &opts)?)?;
/// }
/// let bytes = pdf.finish()?;
/// assert!(bytes.starts_with(b"%PDF-1.4"));
/// # Ok::<(), waybill_redact::ExportError>(())
/// ```
#[derive(Debug)]
pub struct PdfWriter<W: Write> {
    out: W,
    pos: u64,
    offsets: Vec<u64>,
    pages: i32,
    opts: PdfOptions,
}

impl<W: Write> PdfWriter<W> {
    /// Starts a PDF: writes the header.
    ///
    /// # Errors
    /// [`ExportError::Io`] when writing fails.
    pub fn new(out: W, opts: &PdfOptions) -> Result<Self, ExportError> {
        let mut w = Self {
            out,
            pos: 0,
            offsets: Vec::new(),
            pages: 0,
            opts: opts.clone(),
        };
        w.put(b"%PDF-1.4\n%\x80\x80\x80\x80\n")?;
        Ok(w)
    }

    /// Number of pages written so far.
    pub fn page_count(&self) -> usize {
        self.offsets.len() / 3
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.out.write_all(bytes).map_err(ExportError::Io)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Writes one indirect object from a single-object chunk, recording its offset.
    fn put_object(&mut self, chunk: &Chunk) -> Result<(), ExportError> {
        self.offsets.push(self.pos);
        self.put(chunk.as_bytes())
    }

    /// Appends one page.
    ///
    /// # Errors
    /// [`ExportError::Io`] when writing fails, [`ExportError::InvalidSize`] past
    /// 700 million pages.
    pub fn push(&mut self, page: &PdfPage) -> Result<(), ExportError> {
        let base = self
            .pages
            .checked_mul(3)
            .and_then(|n| n.checked_add(FIRST_PAGE_OBJ))
            .filter(|&n| n < i32::MAX - 3)
            .ok_or(ExportError::InvalidSize {
                width: page.width,
                height: page.height,
                reason: "too many pages for one PDF",
            })?;
        let (page_id, content_id, image_id) =
            (Ref::new(base), Ref::new(base + 1), Ref::new(base + 2));
        let (wp, hp) = (page.width_pt, page.height_pt);

        let mut chunk = Chunk::new();
        let mut p = chunk.page(page_id);
        p.parent(Ref::new(PAGE_TREE));
        p.media_box(Rect::new(0.0, 0.0, wp, hp));
        p.contents(content_id);
        p.resources().x_objects().pair(Name(b"Im0"), image_id);
        p.finish();
        self.put_object(&chunk)?;

        let mut content = Content::new();
        content.save_state();
        content.transform([wp, 0.0, 0.0, hp, 0.0, 0.0]);
        content.x_object(Name(b"Im0"));
        content.restore_state();
        let content = content.finish();
        let mut chunk = Chunk::new();
        chunk.stream(content_id, &content);
        self.put_object(&chunk)?;

        let mut chunk = Chunk::with_capacity(page.image.len() + 256);
        let mut img = chunk.image_xobject(image_id, &page.image);
        img.filter(Filter::FlateDecode);
        img.width(i32::try_from(page.width).unwrap_or(i32::MAX));
        img.height(i32::try_from(page.height).unwrap_or(i32::MAX));
        img.color_space().device_gray();
        img.bits_per_component(1);
        // Our 1 bits are black; DeviceGray 1 is white, so flip through /Decode.
        img.decode([1.0, 0.0]);
        img.interpolate(false);
        img.finish();
        self.put_object(&chunk)?;

        self.pages += 1;
        Ok(())
    }

    /// Writes the page tree, catalog, document info, cross-reference table and
    /// trailer, and returns the sink.
    ///
    /// # Errors
    /// [`ExportError::EmptyBatch`] when no page was pushed, [`ExportError::Io`]
    /// when writing fails.
    pub fn finish(mut self) -> Result<W, ExportError> {
        if self.pages == 0 {
            return Err(ExportError::EmptyBatch);
        }
        let page_offsets = std::mem::take(&mut self.offsets);
        let mut head = [0u64; 3];

        let mut chunk = Chunk::new();
        chunk
            .indirect(Ref::new(CATALOG))
            .start::<Catalog>()
            .pages(Ref::new(PAGE_TREE));
        head[0] = self.pos;
        self.put(chunk.as_bytes())?;

        let mut chunk = Chunk::with_capacity(self.pages as usize * 12 + 64);
        chunk
            .pages(Ref::new(PAGE_TREE))
            .kids((0..self.pages).map(|i| Ref::new(FIRST_PAGE_OBJ + 3 * i)))
            .count(self.pages);
        head[1] = self.pos;
        self.put(chunk.as_bytes())?;

        let mut chunk = Chunk::new();
        let mut info = chunk.indirect(Ref::new(INFO)).start::<DocumentInfo>();
        info.producer(TextStr(PRODUCER));
        if let Some(title) = &self.opts.title {
            info.title(TextStr(title));
        }
        info.finish();
        head[2] = self.pos;
        self.put(chunk.as_bytes())?;

        let xref_at = self.pos;
        let size = page_offsets.len() + 4;
        let mut xref = String::with_capacity(size * 20 + 128);
        xref.push_str(&format!("xref\n0 {size}\n0000000000 65535 f\r\n"));
        for off in head.iter().chain(page_offsets.iter()) {
            xref.push_str(&format!("{off:010} 00000 n\r\n"));
        }
        xref.push_str(&format!(
            "trailer\n<< /Size {size} /Root {CATALOG} 0 R /Info {INFO} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
        ));
        self.put(xref.as_bytes())?;
        self.out.flush().map_err(ExportError::Io)?;
        Ok(self.out)
    }
}

/// Writes a PDF with one page per `(raster, dpi)`, in order, each page the
/// label's physical size. For large batches, use [`PdfPage`] and [`PdfWriter`]
/// to stream instead of holding the whole file.
///
/// # Errors
/// [`ExportError::EmptyBatch`] for no pages, and the errors of [`PdfPage::new`].
pub fn to_pdf(pages: &[(&Bitmap, u16)], opts: &PdfOptions) -> Result<Vec<u8>, ExportError> {
    let mut writer = PdfWriter::new(Vec::new(), opts)?;
    for &(bitmap, dpi) in pages {
        writer.push(&PdfPage::new(bitmap, dpi, opts)?)?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_a_hair_below_the_exact_size() {
        for dpi in [150, 203, 300, 600] {
            for dots in [1, 608, 800, 812, 1040, 1181, 1200, 1218, 1772, 2126, 4252] {
                let p = points(dots, dpi);
                let written: f64 = format!("{p}").parse().unwrap();
                let px = written * f64::from(dpi) / 72.0;
                assert!(
                    px < f64::from(dots) && px > f64::from(dots) - 0.01,
                    "{dots}@{dpi}: {px}"
                );
            }
        }
    }
}
