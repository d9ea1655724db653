//! `courier resolve`: scan a label, sign the request with the device key and
//! ask the carrier's resolver service (the `courier` feature: an HTTP client
//! with rustls, and image decoding with a QR reader).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use waybill_redact::{DeviceKey, Purpose};
use zeroize::Zeroizing;

use crate::credentials;
use crate::credentials::read_token_from;
use crate::fail;

/// Exit code for a request the service denied.
const DENIED: u8 = 3;

/// The most bytes of the service's answer read: a disclosure is a few KB.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// The largest label picture decoded, in pixels either way.
const MAX_IMAGE_SIDE: u32 = 12_000;

/// `courier resolve` arguments.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The resolver service, e.g. https://resolver.example.com. Plain http is
    /// accepted for a loopback address only.
    #[arg(long, value_name = "URL")]
    server: String,
    /// A file holding the courier's grant, or `-` for standard input. Never the
    /// grant's text: arguments are visible to every user in /proc/PID/cmdline.
    #[arg(long, value_name = "FILE|-")]
    grant: String,
    /// The device key file (`courier keygen`). Without it the request is
    /// unsigned, which only a bearer grant on a migrating resolver accepts.
    #[arg(long, value_name = "DEVICE.json")]
    device: Option<PathBuf>,
    /// Why: delivery, call, return or after-sales.
    #[arg(long, value_parser = |s: &str| s.parse::<Purpose>())]
    purpose: Purpose,
    /// A picture of the label (PNG or JPEG): its QR code is decoded.
    #[arg(long, value_name = "PICTURE", conflicts_with = "token")]
    image: Option<PathBuf>,
    /// Seconds to wait for the service, in all.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// The token text, or `-` to read it from standard input (instead of --image).
    #[arg(value_name = "TOKEN", required_unless_present = "image")]
    token: Option<String>,
}

/// Decodes the label picture's QR codes and returns the waybill token.
pub fn scan_label(path: &Path) -> Result<String, String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| at(&e))?
        .with_guessed_format()
        .map_err(|e| at(&e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    let photo = reader.decode().map_err(|e| at(&e))?.into_luma8();
    crate::note(format_args!(
        "label picture {}: {}x{} pixels",
        path.display(),
        photo.width(),
        photo.height()
    ));
    let mut seen = 0;
    for attempt in Attempt::ALL {
        let Some(picture) = attempt.apply(&photo) else {
            continue;
        };
        let (found, mut tokens) = waybill_tokens(picture);
        seen = seen.max(found);
        tokens.sort();
        tokens.dedup();
        match tokens.len() {
            0 => continue,
            1 => {
                crate::note(format_args!("a waybill token found ({attempt:?})"));
                return Ok(tokens.remove(0));
            }
            n => {
                return Err(at(&format_args!(
                    "{n} different waybill tokens in one picture; picture one label"
                )))
            }
        }
    }
    Err(at(&if seen == 0 {
        "no QR code found; take the picture again, closer and square on".to_owned()
    } else {
        format!("{seen} QR code(s) found, none readable as a waybill token; take the picture again")
    }))
}

/// The QR codes rqrr finds in `picture`, and the waybill tokens among them.
fn waybill_tokens(picture: image::GrayImage) -> (usize, Vec<String>) {
    let mut prepared = rqrr::PreparedImage::prepare(picture);
    let grids = prepared.detect_grids();
    let tokens = grids
        .iter()
        .filter_map(|g| g.decode().ok())
        .map(|(_, text)| text.trim().to_owned())
        .filter(|text| text.starts_with("WB"))
        .collect();
    (grids.len(), tokens)
}

/// The ways a photo is looked at, in turn, until one yields a token. rqrr reads
/// a sharp, square-on code at once; a phone's picture (blurred, a few degrees
/// off, 3–4 pixels per module) often needs it thresholded or enlarged first.
#[derive(Clone, Copy, Debug)]
enum Attempt {
    AsTaken,
    Thresholded,
    EnlargedThresholded,
    Enlarged,
    UpsideDown,
    SmoothedThresholded,
    QuarterTurn,
    ThreeQuarterTurn,
    Smoothed,
}

/// Pictures up to this side are enlarged twice for small codes.
const MAX_ENLARGED_SIDE: u32 = 3_000;

impl Attempt {
    const ALL: [Attempt; 9] = [
        Self::AsTaken,
        Self::Thresholded,
        Self::EnlargedThresholded,
        Self::Enlarged,
        Self::UpsideDown,
        Self::SmoothedThresholded,
        Self::QuarterTurn,
        Self::ThreeQuarterTurn,
        Self::Smoothed,
    ];

    /// The picture to search, or `None` where this attempt does not apply.
    fn apply(self, photo: &image::GrayImage) -> Option<image::GrayImage> {
        use image::imageops::{self, FilterType};
        let threshold = |img: &image::GrayImage| {
            let level = imageproc::contrast::otsu_level(img);
            imageproc::contrast::threshold(img, level, imageproc::contrast::ThresholdType::Binary)
        };
        let enlarged = |filter| {
            (photo.width().max(photo.height()) <= MAX_ENLARGED_SIDE)
                .then(|| imageops::resize(photo, photo.width() * 2, photo.height() * 2, filter))
        };
        match self {
            Self::AsTaken => Some(photo.clone()),
            Self::Thresholded => Some(threshold(photo)),
            Self::EnlargedThresholded => enlarged(FilterType::CatmullRom).map(|e| threshold(&e)),
            Self::Enlarged => enlarged(FilterType::Triangle),
            Self::UpsideDown => Some(imageops::rotate180(photo)),
            Self::SmoothedThresholded => {
                Some(threshold(&imageproc::filter::gaussian_blur_f32(photo, 1.0)))
            }
            Self::QuarterTurn => Some(imageops::rotate90(photo)),
            Self::ThreeQuarterTurn => Some(imageops::rotate270(photo)),
            Self::Smoothed => Some(imageproc::filter::gaussian_blur_f32(photo, 1.5)),
        }
    }
}

fn check_server(url: &str) -> Result<bool, String> {
    crate::net::check_url(
        "--server",
        url,
        "so the grant does not cross the network in clear",
    )
}

/// The request body, with the device's signature when a key is given.
fn request_body(
    grant: &str,
    token: &str,
    purpose: Purpose,
    device: Option<&DeviceKey>,
) -> Result<Zeroizing<String>, String> {
    let mut body = serde_json::json!({
        "token": token,
        "grant": grant,
        "purpose": purpose.as_str(),
    });
    if let Some(device) = device {
        let grant_id = credentials::parse_grant(grant)?.id();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the device clock is before 1970")?
            .as_secs();
        let proof = device
            .prove(grant_id, purpose, &[token], now)
            .map_err(|e| e.to_string())?;
        body["device_signature"] = proof.to_string().into();
    }
    Ok(Zeroizing::new(body.to_string()))
}

/// What the service answered.
struct Answer {
    status: u16,
    body: serde_json::Value,
}

/// POSTs `body` to the service's `/v1/resolve`, with a timeout and a bound on
/// the answer's size.
fn post(server: &str, loopback: bool, body: &str, timeout: u64) -> Result<Answer, String> {
    let url = format!("{}/v1/resolve", server.trim_end_matches('/'));
    let agent = crate::net::agent(loopback, timeout);
    let started = std::time::Instant::now();
    let mut response = agent
        .post(&url)
        .header("content-type", "application/json")
        .send(body.as_bytes())
        .map_err(|e| format!("{server}: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_string()
        .map_err(|e| format!("{server}: reading the answer: {e}"))?;
    crate::note(format_args!(
        "POST {url}: HTTP {status} in {:.3} s",
        started.elapsed().as_secs_f64()
    ));
    let body = serde_json::from_str(&text)
        .map_err(|_| format!("{server}: HTTP {status}, and the answer is not JSON"))?;
    Ok(Answer { status, body })
}

pub fn resolve(args: &ResolveArgs) -> ExitCode {
    let asked = (|| -> Result<Answer, String> {
        let loopback = check_server(&args.server)?;
        let token_arg = args.token.as_deref();
        if args.grant == "-" && token_arg == Some("-") {
            return Err("--grant - and TOKEN - both want standard input: put one in a file".into());
        }
        let grant = credentials::read_grant(&args.grant)?;
        let device = args
            .device
            .as_deref()
            .map(credentials::load_device_key)
            .transpose()?;
        let token = match (&args.image, token_arg) {
            (Some(path), _) => scan_label(path)?,
            (None, Some("-")) => read_token_from(std::io::stdin().lock())?,
            (None, Some(text)) => text.to_owned(),
            (None, None) => return Err("give a label picture (--image) or a token".into()),
        };
        let body = request_body(&grant, token.trim(), args.purpose, device.as_ref())?;
        post(&args.server, loopback, &body, args.timeout)
    })();
    let answer = match asked {
        Ok(a) => a,
        Err(e) => return fail("courier resolve", e),
    };
    if answer.status == 200 {
        println!("{}", answer.body);
        return ExitCode::SUCCESS;
    }
    let error = &answer.body["error"];
    let code = error["code"].as_str().unwrap_or("unknown");
    let message = error["message"].as_str().unwrap_or("no message");
    // A 4xx other than "slow down" is the service's answer about this request;
    // 429 and 5xx say to try again later.
    if (400..500).contains(&answer.status) && answer.status != 429 {
        eprintln!("denied: {message} ({code})");
        ExitCode::from(DENIED)
    } else {
        fail(
            "courier resolve",
            format_args!(
                "the service answered HTTP {}: {message} ({code})",
                answer.status
            ),
        )
    }
}
