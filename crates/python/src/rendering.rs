//! `render`, `render_label`, `Label`, `Fonts` and `write_pdf`.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use waybill_redact::{
    mask, render as render_label_rs, Fonts as RsFonts, Label as RsLabel, LabelSize, LabelSpec,
    MaskPolicy as Policy, PdfOptions, PdfWriter, PngMode, Waybill, ZplOptions,
};

use crate::errors::{io_error, Failure};
use crate::masking::{policy_of, MaskPolicy};
use crate::record::Source;

/// Fonts to draw labels with: the bundled Noto faces (the default), or a font
/// file of your own with fallbacks for characters it lacks.
#[pyclass(module = "waybill_redact", frozen, from_py_object)]
#[derive(Clone)]
pub struct Fonts {
    pub(crate) fonts: RsFonts,
}

#[pymethods]
impl Fonts {
    /// Reads a TrueType/OpenType font or collection (`index` picks the face of a
    /// collection). Raises `RenderError` when it is not a font, `OSError` when it
    /// cannot be read.
    #[new]
    #[pyo3(signature = (path, index = 0))]
    fn new(path: PathBuf, index: u32) -> PyResult<Self> {
        let bytes = std::fs::read(&path).map_err(|e| io_error(&path.display().to_string(), &e))?;
        Ok(Self {
            fonts: RsFonts::from_bytes(bytes, index).map_err(Failure::from)?,
        })
    }

    /// The bundled Noto fonts (CJK with GBK and Big5 coverage, and the world
    /// scripts), which `fonts=None` means.
    #[staticmethod]
    fn bundled() -> Self {
        Self {
            fonts: RsFonts::bundled(),
        }
    }

    /// These fonts with a fallback font for characters they lack, tried after
    /// the ones already there.
    #[pyo3(signature = (path, index = 0))]
    fn with_fallback(&self, path: PathBuf, index: u32) -> PyResult<Self> {
        let bytes = std::fs::read(&path).map_err(|e| io_error(&path.display().to_string(), &e))?;
        Ok(Self {
            fonts: self
                .fonts
                .clone()
                .with_fallback(bytes, index)
                .map_err(Failure::from)?,
        })
    }
}

/// The `format` argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Png,
    PngGray,
    Zpl,
    Pdf,
    /// A `Label` object rather than bytes (`render_batch` only).
    Label,
}

impl Format {
    pub(crate) fn parse(name: &str, label_allowed: bool) -> PyResult<Self> {
        Ok(match name {
            "png" => Self::Png,
            "png-gray" => Self::PngGray,
            "zpl" => Self::Zpl,
            "pdf" => Self::Pdf,
            "label" if label_allowed => Self::Label,
            _ if label_allowed => {
                return Err(PyValueError::new_err(
                    "format: expected 'png', 'png-gray', 'zpl', 'pdf' or 'label'",
                ))
            }
            _ => {
                return Err(PyValueError::new_err(
                    "format: expected 'png', 'png-gray', 'zpl' or 'pdf'",
                ))
            }
        })
    }
}

/// What rendering one record produced.
pub(crate) enum Output {
    Bytes(Vec<u8>),
    Label(Box<RsLabel>),
}

impl Output {
    pub(crate) fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self {
            Self::Bytes(b) => PyBytes::new(py, &b).into_any().unbind(),
            Self::Label(label) => Py::new(py, Label { label: *label })?.into_any(),
        })
    }
}

/// Everything rendering needs besides the record and its token; shared by the
/// worker threads of `render_batch`.
pub(crate) struct Options {
    pub(crate) spec: LabelSpec,
    pub(crate) fonts: RsFonts,
    pub(crate) policy: Policy,
    pub(crate) format: Format,
}

impl Options {
    pub(crate) fn new(
        size: &str,
        dpi: u16,
        format: Format,
        fonts: Option<&Fonts>,
        policy: Policy,
    ) -> PyResult<Self> {
        let size: LabelSize = size.parse().map_err(Failure::from)?;
        let spec = size.at_dpi(dpi).map_err(Failure::from)?;
        Ok(Self {
            spec,
            fonts: fonts.map_or_else(RsFonts::bundled, |f| f.fonts.clone()),
            policy,
            format,
        })
    }

    /// Masks, renders and encodes one record (CPU work: call without the GIL).
    pub(crate) fn render(&self, waybill: &Waybill, token: &str) -> Result<Output, Failure> {
        let masked = mask(waybill, &self.policy);
        let label = render_label_rs(&masked, token, &self.spec, &self.fonts)?;
        Ok(match self.format {
            Format::Png => Output::Bytes(label.to_png(PngMode::OneBit)?),
            Format::PngGray => Output::Bytes(label.to_png(PngMode::Gray)?),
            Format::Zpl => Output::Bytes(label.to_zpl(&ZplOptions::new())?.into_bytes()),
            Format::Pdf => Output::Bytes(label.to_pdf(&PdfOptions::new())?),
            Format::Label => Output::Label(Box::new(label)),
        })
    }
}

/// Renders one record with its token to a label file's bytes: `format` is
/// "png" (1-bit, for thermal printers), "png-gray" (8-bit), "zpl" (ZPL II) or
/// "pdf" (one page at physical size). `size` is `WxH` in millimetres, `dpi` the
/// printer's resolution. The record is masked with `policy` (GB/T 41833-2022 by
/// default) and the token printed as the QR code.
///
/// >>> import waybill_redact as wr
/// >>> png = wr.render({"tracking_number": "SF1234567890123", "zone": 755021,
/// ...     "recipient": {"name": "张三", "phone": "13812345678",
/// ...                   "address": "广东省深圳市南山区深南大道10000号"}}, "WB1:EXAMPLE")
/// >>> png[:8] == b"\x89PNG\r\n\x1a\n"
/// True
#[pyfunction]
#[pyo3(signature = (record, token, size = "100x150", dpi = 203, format = "png", fonts = None, policy = None))]
#[allow(clippy::too_many_arguments)]
pub fn render(
    record: &Bound<'_, PyAny>,
    token: &str,
    size: &str,
    dpi: u16,
    format: &str,
    fonts: Option<PyRef<'_, Fonts>>,
    policy: Option<PyRef<'_, MaskPolicy>>,
) -> PyResult<Py<PyAny>> {
    let format = Format::parse(format, false)?;
    render_one(record, token, size, dpi, format, fonts, policy)
}

/// `render`, returning a `Label` to encode in several formats or show.
///
/// >>> import waybill_redact as wr
/// >>> label = wr.render_label({"tracking_number": "SF1234567890123", "zone": 755021,
/// ...     "recipient": {"name": "张三", "phone": "13812345678",
/// ...                   "address": "广东省深圳市南山区深南大道10000号"}}, "WB1:EXAMPLE")
/// >>> label.width, label.height, label.dpi
/// (799, 1199, 203)
/// >>> label.zpl()[:3]
/// b'^XA'
#[pyfunction]
#[pyo3(signature = (record, token, size = "100x150", dpi = 203, fonts = None, policy = None))]
pub fn render_label(
    record: &Bound<'_, PyAny>,
    token: &str,
    size: &str,
    dpi: u16,
    fonts: Option<PyRef<'_, Fonts>>,
    policy: Option<PyRef<'_, MaskPolicy>>,
) -> PyResult<Py<PyAny>> {
    render_one(record, token, size, dpi, Format::Label, fonts, policy)
}

fn render_one(
    record: &Bound<'_, PyAny>,
    token: &str,
    size: &str,
    dpi: u16,
    format: Format,
    fonts: Option<PyRef<'_, Fonts>>,
    policy: Option<PyRef<'_, MaskPolicy>>,
) -> PyResult<Py<PyAny>> {
    let options = Options::new(size, dpi, format, fonts.as_deref(), policy_of(policy))?;
    let py = record.py();
    let source = Source::extract(record)?;
    let out = py
        .detach(|| {
            let waybill = source.waybill()?;
            options.render(&waybill, token)
        })
        .map_err(|f| PyErr::from(f.at(source.position())))?;
    out.into_py(py)
}

/// A rendered label: a 1-bit raster at the printer's resolution, to encode as
/// PNG, ZPL or PDF.
#[pyclass(module = "waybill_redact", frozen)]
pub struct Label {
    pub(crate) label: RsLabel,
}

#[pymethods]
impl Label {
    /// PNG bytes, 1-bit (or 8-bit gray with `gray=True`), resolution recorded.
    #[pyo3(signature = (gray = false))]
    fn png<'py>(&self, py: Python<'py>, gray: bool) -> PyResult<Bound<'py, PyBytes>> {
        let mode = if gray { PngMode::Gray } else { PngMode::OneBit };
        let bytes = py
            .detach(|| self.label.to_png(mode))
            .map_err(Failure::from)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// ZPL II bytes. `native_codes=True` draws the barcode and QR code with
    /// printer commands (^BC, ^BQ) instead of raster.
    #[pyo3(signature = (native_codes = false))]
    fn zpl<'py>(&self, py: Python<'py>, native_codes: bool) -> PyResult<Bound<'py, PyBytes>> {
        let text = py
            .detach(|| {
                self.label
                    .to_zpl(&ZplOptions::new().native_codes(native_codes))
            })
            .map_err(Failure::from)?;
        Ok(PyBytes::new(py, text.as_bytes()))
    }

    /// A one-page PDF at the label's physical size.
    fn pdf<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py
            .detach(|| self.label.to_pdf(&PdfOptions::new()))
            .map_err(Failure::from)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The label as a Pillow image (mode "1"). Needs Pillow installed.
    fn to_pil(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let png = self.png(py, false)?;
        let image = py.import("PIL.Image")?;
        let io = py.import("io")?.call_method1("BytesIO", (png,))?;
        let img = image.call_method1("open", (io,))?;
        img.call_method0("load")?;
        Ok(img.unbind())
    }

    /// Width in dots.
    #[getter]
    fn width(&self) -> u32 {
        self.label.bitmap().width()
    }

    /// Height in dots.
    #[getter]
    fn height(&self) -> u32 {
        self.label.bitmap().height()
    }

    /// Resolution in dots per inch.
    #[getter]
    fn dpi(&self) -> u16 {
        self.label.dpi()
    }

    /// What the renderer had to compromise on (a field cut to fit, narrow bars),
    /// naming fields by path.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.label
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Label(width={}, height={}, dpi={})",
            self.width(),
            self.height(),
            self.dpi()
        )
    }
}

/// Writes `labels` (an iterable of `Label`) into one multi-page PDF at `path`,
/// one page per label at its physical size, streaming: pages are compressed and
/// written one at a time. Returns the number of pages.
#[pyfunction]
pub fn write_pdf(path: PathBuf, labels: &Bound<'_, PyAny>) -> PyResult<usize> {
    let py = labels.py();
    let name = path.display().to_string();
    let file = std::fs::File::create(&path).map_err(|e| io_error(&name, &e))?;
    let options = PdfOptions::new();
    let mut writer = PdfWriter::new(std::io::BufWriter::new(file), &options)
        .map_err(|e| export_or_io(&name, e))?;
    for item in labels.try_iter()? {
        let item = item?;
        let label = item.cast::<Label>()?.get();
        py.detach(|| {
            let page = label.label.to_pdf_page(&options)?;
            writer.push(&page)
        })
        .map_err(|e| export_or_io(&name, e))?;
    }
    let pages = writer.page_count();
    let out = py
        .detach(|| writer.finish())
        .map_err(|e| export_or_io(&name, e))?;
    out.into_inner()
        .map_err(|e| io_error(&name, e.error()))?
        .sync_all()
        .map_err(|e| io_error(&name, &e))?;
    Ok(pages)
}

fn export_or_io(name: &str, e: waybill_redact::ExportError) -> PyErr {
    Failure::from(e).with_context(name).into()
}
