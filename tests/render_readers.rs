//! Labels read back by readers we did not write.
//!
//! - `zbarimg` (Debian `zbar-tools`) decodes the QR code to exactly the token and
//!   the Code 128 to exactly the tracking number, for every fixture at every size
//!   and both resolutions.
//! - `tesseract` (Debian `tesseract-ocr`, `tesseract-ocr-chi-sim`) reads a simulated
//!   photo of each label: the hidden parts (full phone, house-level address, item
//!   description and category) are never in its output, while visible text is,
//!   and a control label printed with the dangerous overrides shows that OCR
//!   would have caught a leak.
//!
//! The tools must be installed; the tests fail (not skip) without them.

#![cfg(all(feature = "render", feature = "bundled-font"))]

mod render_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use image::{imageops, GrayImage, Luma};
use render_support::{fixtures, masked, spec_name, specs, stand_in_token_len};
use std::sync::Arc;
use waybill_redact::danger::Role;

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, render, Fonts, GrantSpec, IssuerKey, KeyRing, Label, LabelSpec, MaskPolicy, MemorySink,
    PngMode, Purpose, RenderError, ResolveRequest, Resolver, TokenBucket, Validity, Waybill,
};

/// Runs `job(i)` for `0..n` on two threads (CI has two cores), collecting failures.
fn parallel(n: usize, job: impl Fn(usize) -> Result<(), String> + Sync) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                if let Err(e) = job(i) {
                    failures.lock().unwrap().push(e);
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

fn token_for(i: usize) -> String {
    // 300–480 Base45 characters: QR versions 11 to 14 at level M.
    stand_in_token_len(i as u64, 300 + (i * 37) % 181)
}

fn write_png(dir: &Path, name: &str, png: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    path
}

fn zbar(path: &Path, symbology: &str) -> String {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", &format!("-S{symbology}.enable")])
        .arg(path)
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools)");
    String::from_utf8_lossy(&out.stdout)
        .trim_end_matches('\n')
        .to_owned()
}

/// The carrier side of the round trip: a key ring that seals the labels' tokens, and
/// a resolver (with its own copy of the ring) that a courier's scans go to.
struct Carrier {
    ring: KeyRing,
    resolver: Resolver,
    grant: String,
}

fn carrier(zones: Vec<u32>) -> Carrier {
    let ring = KeyRing::generate();
    let resolver_ring = KeyRing::from_json(&ring.to_json()).unwrap();
    let issuer = IssuerKey::generate();
    let now = OffsetDateTime::now_utc();
    let grant = issuer
        .issue(&GrantSpec::new(
            "C-TEST",
            zones,
            now - Duration::minutes(1),
            now + Duration::hours(2),
            10_000,
        ))
        .unwrap();
    let resolver = Resolver::new(
        resolver_ring,
        vec![issuer.public_key()],
        Arc::new(MemorySink::new()),
    )
    .with_bearer_grants(true)
    .with_rate_limiter(Arc::new(TokenBucket::new(10_000, 10_000)));
    Carrier {
        ring,
        resolver,
        grant: grant.as_str().to_owned(),
    }
}

#[test]
fn zbar_decodes_qr_and_code128_on_every_label_and_the_token_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let all = fixtures();
    let specs = specs();
    let c = carrier(all.iter().map(Waybill::zone).collect());
    let now = OffsetDateTime::now_utc();
    let jobs: Vec<(usize, LabelSpec)> = (0..all.len())
        .flat_map(|i| specs.iter().map(move |s| (i, s.clone())))
        .collect();
    let failures = parallel(jobs.len(), |k| {
        let (i, spec) = jobs[k].clone();
        let w = &all[i];
        let token = c
            .ring
            .seal(w, &Validity::new(now, Duration::days(30)).unwrap())
            .unwrap();
        let label = render(&masked(w), token.as_str(), &spec, &Fonts::bundled())
            .map_err(|e| format!("{i}: {e}"))?;
        let mode = if k % 2 == 0 {
            PngMode::OneBit
        } else {
            PngMode::Gray
        };
        let path = write_png(
            dir.path(),
            &format!("{i}-{}.png", spec_name(&spec)),
            &label.to_png(mode).unwrap(),
        );
        let qr = zbar(&path, "qrcode");
        let bar = zbar(&path, "code128");
        let tn = w.tracking_number().as_str();
        if qr != token.as_str() || bar != tn {
            return Err(format!(
                "fixture {i} {}: qr ok={} code128={bar:?} want {tn:?}",
                spec_name(&spec),
                qr == token.as_str()
            ));
        }
        // What zbar read is what a courier's app sends to the resolver.
        let request = ResolveRequest::new(Purpose::Delivery);
        let disclosure = c
            .resolver
            .resolve(&qr, &c.grant, &request)
            .map_err(|e| format!("fixture {i} {}: resolve: {e}", spec_name(&spec)))?;
        if disclosure.name.as_deref() != Some(w.recipient().name().as_str())
            || disclosure.phone.as_deref() != Some(w.recipient().phone().to_canonical().as_str())
        {
            return Err(format!(
                "fixture {i} {}: disclosure does not match the recipient",
                spec_name(&spec)
            ));
        }
        Ok(())
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

/// QR codes from version 11 to 14 (300–480 characters) decode at every size.
#[test]
fn zbar_decodes_long_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let all = fixtures();
    let specs = specs();
    let failures = parallel(specs.len() * 3, |k| {
        let spec = specs[k % specs.len()].clone();
        let token = token_for(k);
        let w = &all[k % all.len()];
        let label = match render(&masked(w), &token, &spec, &Fonts::bundled()) {
            Ok(l) => l,
            Err(RenderError::TokenTooLong { .. }) if token.len() > 419 => return Ok(()),
            Err(e) => return Err(format!("{k}: {e}")),
        };
        let path = write_png(
            dir.path(),
            &format!("long-{k}.png"),
            &label.to_png(PngMode::OneBit).unwrap(),
        );
        let qr = zbar(&path, "qrcode");
        (qr == token)
            .then_some(())
            .ok_or_else(|| format!("{k} {}: {} chars not read", spec_name(&spec), token.len()))
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A deterministic phone-camera imitation: downscale to 60 %, a slight rotation,
/// a blur, and noise.
fn photo(label: &Label, seed: u64) -> GrayImage {
    let bm = label.bitmap();
    let img = GrayImage::from_fn(bm.width(), bm.height(), |x, y| {
        Luma([if bm.get(x, y) { 20 } else { 235 }])
    });
    let (w, h) = (bm.width() * 6 / 10, bm.height() * 6 / 10);
    let img = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
    let angle = (1.0 + (seed % 3) as f32 * 0.5).to_radians();
    let img = imageproc::geometric_transformations::rotate_about_center(
        &img,
        angle,
        imageproc::geometric_transformations::Interpolation::Bilinear,
        imageproc::geometric_transformations::Border::Constant(Luma([235])),
    );
    let mut img = imageops::blur(&img, 0.7);
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    for p in img.pixels_mut() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = ((s >> 59) as i16) - 16; // -16..=15
        p.0[0] = (i16::from(p.0[0]) + n).clamp(0, 255) as u8;
    }
    img
}

fn ocr(path: &Path) -> String {
    let out = Command::new("tesseract")
        .arg(path)
        .args(["-", "-l", "chi_sim+eng"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("tesseract is installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)");
    // Tesseract puts spaces between hanzi; compare without white space.
    String::from_utf8_lossy(&out.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// House-level parts of an address: a number (with letters) followed by a unit
/// word, such as `1001室`, `1栋`, `10000号`, `A座`, `23幢`.
fn house_parts(addr: &str) -> Vec<String> {
    let chars: Vec<char> = addr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let num: String = chars[start..i].iter().collect();
            match chars.get(i) {
                Some(&u) if "号栋幢单元室楼层座房弄期".contains(u) => {
                    out.push(format!("{num}{u}"))
                }
                _ if num.len() >= 4 && num.chars().all(|c| c.is_ascii_digit()) => out.push(num),
                _ => {}
            }
        } else {
            i += 1;
        }
    }
    out
}

/// What the label must never show for `w`: the hidden phone digits, house-level
/// address parts and item details.
fn secrets(w: &Waybill) -> Vec<String> {
    let mut v = Vec::new();
    let mut parties = vec![w.recipient()];
    parties.extend(w.sender());
    for p in parties {
        let d = p.phone().national_digits();
        let visible = 4.min(d.len().saturating_sub(6));
        v.push(d[..d.len() - visible].to_owned());
        v.extend(house_parts(&p.address().to_full_text()));
    }
    for item in w.items() {
        v.extend(item.description().map(str::to_owned));
        v.extend(item.category().map(str::to_owned));
    }
    v.retain(|s| s.chars().count() >= 2);
    v
}

fn normalise(s: &str) -> String {
    s.to_uppercase()
        .replace(['O', 'o'], "0")
        .replace(['I', 'l'], "1")
}

#[test]
fn ocr_of_a_photo_shows_no_hidden_parts_but_shows_the_visible_ones() {
    let dir = tempfile::tempdir().unwrap();
    let all = fixtures();
    let specs = specs();
    let failures = parallel(all.len(), |i| {
        let w = &all[i];
        let spec = specs[i % specs.len()].clone();
        let m = masked(w);
        let label =
            render(&m, &token_for(i), &spec, &Fonts::bundled()).map_err(|e| e.to_string())?;
        let mut png = Vec::new();
        photo(&label, i as u64)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let text = ocr(&write_png(dir.path(), &format!("photo-{i}.png"), &png));
        let norm = normalise(&text);
        let mut errs = Vec::new();
        for s in secrets(w) {
            if text.to_lowercase().contains(&s.to_lowercase()) {
                errs.push(format!("hidden part {s:?} in OCR output"));
            }
        }
        // Proof that OCR worked: the tracking number, the routing code, or the
        // masked recipient address (province, city) read.
        let mut visible = vec![normalise(w.tracking_number().as_str())];
        visible.extend(m.routing().and_then(|r| r.sort_code()).map(normalise));
        if m.zone() != 0 {
            visible.push(m.zone().to_string());
        }
        // Any two consecutive letters of the masked recipient address.
        let addr: Vec<char> = m
            .recipient()
            .address()
            .as_str()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        let pairs: Vec<String> = addr
            .windows(2)
            .filter(|p| !p.iter().all(char::is_ascii_digit))
            .map(|p| p.iter().collect())
            .collect();
        let found = visible.iter().any(|v| norm.contains(v.as_str()))
            || pairs.iter().any(|p| text.contains(p.as_str()));
        if !found {
            errs.push(format!(
                "OCR found none of {visible:?} or {pairs:?}: {text}"
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(format!("fixture {i} {}: {errs:?}", spec_name(&spec)))
        }
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn ocr_control_catches_a_label_printed_without_masking() {
    // Same photo and OCR, but a label printed with every dangerous override: the
    // test above would have failed on it.
    let w = &fixtures()[0];
    let mut policy = MaskPolicy::default();
    policy
        .dangerous()
        .show_full_address(Role::Recipient)
        .show_phone_digits(Role::Recipient, 11)
        .show_item_details();
    let label = render(
        &mask(w, &policy),
        &token_for(0),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut png = Vec::new();
    photo(&label, 0)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let text = ocr(&write_png(dir.path(), "control.png", &png));
    let leaked: Vec<String> = secrets(w)
        .into_iter()
        .filter(|s| text.contains(s.as_str()))
        .collect();
    assert!(
        leaked.len() >= 2,
        "OCR should read the unmasked parts; read {text:?}"
    );
}
