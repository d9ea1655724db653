//! Token commands: `grant`, `seal`, `resolve`, `audit`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    verify_audit_log, AuditKey, AuditPublicKey, AuditSink, DevicePublicKey, FixedClock, Grant,
    GrantSpec, IssuerKey, IssuerPublicKey, JsonLinesFileSink, MemorySink, Purpose, ResolveRequest,
    Resolver, RestoredFrom, Scope, TokenBucket, Validity,
};
#[cfg(feature = "audit-log")]
use waybill_redact::{verify_audit_log_with, AuditRules, SignedCheckpoint, WitnessPublicKey};

use crate::credentials::{self, load_ring, read_token_from, SealKeys};
use crate::fail;
use crate::files::{read, read_secret, write_secret};

/// Exit code for a denied resolve.
const DENIED: u8 = 3;

/// `grant` arguments.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The issuer key file.
    #[arg(long, value_name = "ISSUER.json")]
    issuer: PathBuf,
    /// The courier's id.
    #[arg(long, value_name = "ID")]
    courier: String,
    /// Comma-separated zone ids.
    #[arg(long, value_delimiter = ',', required = true)]
    zones: Vec<u32>,
    /// The courier device's public key (`WD1:…`, printed by `courier keygen`),
    /// or a file holding it: the grant then resolves only requests that device
    /// signs.
    #[arg(long, value_name = "WD1:…|FILE")]
    device_key: Option<String>,
    /// Issue a bearer grant, bound to no device: whoever holds its text can use
    /// it. Only for resolvers still migrating (`serve --allow-bearer-grants`).
    #[arg(long)]
    bearer: bool,
    /// How long the grant is valid, in hours from not-before (default: one shift).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=720))]
    hours: u16,
    /// The longest grant allowed, in hours; resolvers refuse grants over their
    /// `max_grant_hours` (24 by default).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u16).range(1..=720))]
    max_hours: u16,
    /// Fields it may disclose: name, phone, address, items.
    #[arg(long, default_value = "address,phone,name")]
    scope: String,
    /// How many resolutions it allows (default: one shift's parcels).
    #[arg(long, default_value_t = 300)]
    quota: u32,
    /// Start of validity (RFC 3339); default now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    not_before: Option<OffsetDateTime>,
    /// Also write the grant as a QR code (PNG, owner-only), for the courier's
    /// app to scan.
    #[arg(long, value_name = "FILE.png")]
    qr: Option<PathBuf>,
}

/// `seal` arguments.
#[derive(Debug, Args)]
pub struct SealArgs {
    #[command(flatten)]
    keys: SealKeys,
    /// Waybills as a JSON array, JSON Lines or CSV; standard input when absent or `-`.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    limits: crate::input::LimitArgs,
    /// Days until the tokens expire.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=3650))]
    ttl_days: u16,
}

/// `resolve` arguments.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The key ring file.
    #[arg(long, value_name = "RING.json")]
    ring: PathBuf,
    /// A trusted issuer's public key (`WI1:…`, printed by `issuer new`), or a file
    /// holding it (repeatable). The issuer's secret file is refused: the signing
    /// secret never belongs on a resolver host.
    #[arg(long, value_name = "WI1:…|FILE", required = true)]
    trust: Vec<String>,
    /// The sealer registry: seller tokens (suites 3 and 2) open only from registered, unrevoked
    /// sealers (without it, every seller token is denied).
    #[arg(long, value_name = "SEALERS.json")]
    sealers: Option<PathBuf>,
    /// A file holding the courier's grant, or `-` for standard input. Never the
    /// grant's text: arguments are visible to every user in /proc/PID/cmdline.
    #[arg(long, value_name = "FILE|-")]
    grant: String,
    /// The courier's device key file: sign the request with it, as the
    /// courier's device would (needed for grants bound to a device).
    #[arg(long, value_name = "DEVICE.json")]
    device: Option<PathBuf>,
    /// Also accept bearer grants (bound to no device), for carriers still migrating.
    #[arg(long)]
    allow_bearer_grants: bool,
    /// Why: delivery, call, return or after-sales.
    #[arg(long, value_parser = |s: &str| s.parse::<Purpose>())]
    purpose: Purpose,
    /// Append the audit record to this JSON-lines log (created if missing, 0600).
    /// Grant quotas and the per-courier rate limit hold across runs: their counters
    /// are kept beside the log in LOG.head, bound to the log's length and last
    /// record; when that file is missing or does not match, the log is verified and
    /// replayed whole. Without a log they only hold within one run.
    #[arg(long, value_name = "LOG")]
    audit: Option<PathBuf>,
    /// Tests only: the resolver's clock (RFC 3339). A real resolver reads its own.
    #[arg(long, value_name = "TIME", value_parser = parse_time, hide = true)]
    now: Option<OffsetDateTime>,
    /// A revocation list: lines `grant <32 hex digits>` or `parcel <tracking number>`;
    /// blank lines and lines starting with `#` are skipped (repeatable).
    #[arg(long, value_name = "FILE")]
    revoked: Vec<PathBuf>,
    /// The token text, or `-` to read it from standard input.
    #[arg(value_name = "TOKEN")]
    token: String,
}

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain; exit 1 naming the first broken record. With
    /// --key also the checkpoints and witnesses (needs the `audit-log` feature).
    Verify {
        /// The JSON-lines audit log (a file log, or `audit export` output).
        #[arg(value_name = "LOG")]
        log: PathBuf,
        /// The audit public key (`WA1:…`): check every checkpoint's signature,
        /// and refuse an empty log and records no checkpoint covers.
        #[arg(long, value_name = "PUB")]
        key: Option<String>,
        /// A witness's public key (`WW1:…`, repeatable): the records must be
        /// covered by checkpoints this witness cosigned.
        #[arg(long, value_name = "PUB", requires = "key")]
        witness: Vec<String>,
        /// Records of a chain allowed after its last (cosigned) checkpoint.
        #[arg(long, value_name = "N", default_value_t = 0, requires = "key")]
        allow_unwitnessed: u64,
        /// A cosigned checkpoint note fetched from a witness (repeatable): the
        /// log must contain its tree, so a log cut or rewritten before it fails.
        #[arg(long, value_name = "NOTE", requires = "key")]
        checkpoint: Vec<PathBuf>,
    },
    /// Write a service store's audit chains as JSON lines for `audit verify`.
    #[cfg(feature = "serve")]
    Export(waybill_redact_service::ExportArgs),
    /// Not in this build: `audit export` needs the `serve` feature.
    #[cfg(not(feature = "serve"))]
    #[command(hide = true)]
    Export(crate::NotBuilt),
    /// Create an audit key file that signs checkpoints (refuses to overwrite);
    /// prints its public key for `audit verify --key`.
    KeyNew {
        /// Where to write the key (JSON, owner-only permissions).
        #[arg(long, value_name = "AUDIT_KEY.json")]
        out: PathBuf,
    },
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| "expected RFC 3339, e.g. 2026-11-28T10:00:00+08:00".into())
}

/// A usage error: prints it and returns exit code 2.
fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// The device a grant is bound to, from `--device-key` or `--bearer` (exactly one).
fn grant_device(args: &GrantArgs) -> Result<Option<DevicePublicKey>, String> {
    match (&args.device_key, args.bearer) {
        (Some(key), false) => credentials::device_public_key(key).map(Some),
        (None, true) => Ok(None),
        (Some(_), true) => Err(
            "grant: --device-key and --bearer exclude each other: a grant \
                                is either bound to a device or a bearer grant"
                .into(),
        ),
        (None, false) => Err(
            "grant: give --device-key WD1:… (the courier device's public key, \
                              from `courier keygen`) to bind the grant to that device, or \
                              --bearer for a bearer grant that resolvers refuse unless they \
                              run with --allow-bearer-grants"
                .into(),
        ),
    }
}

/// `grant`.
pub fn grant(args: GrantArgs) -> ExitCode {
    let scope: Scope = match args.scope.parse() {
        Ok(s) => s,
        Err(e) => return usage(format_args!("--scope: {e}")),
    };
    if args.hours > args.max_hours {
        return usage(format_args!(
            "grant: --hours {} is more than --max-hours {}; resolvers refuse grants longer \
             than their max_grant_hours (24 by default)",
            args.hours, args.max_hours
        ));
    }
    let device = match grant_device(&args) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let key = match read_secret(&args.issuer)
        .and_then(|t| IssuerKey::from_json(&t).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => return fail("grant", e),
    };
    let not_before = args.not_before.unwrap_or_else(OffsetDateTime::now_utc);
    let Some(expires_at) = not_before.checked_add(Duration::hours(i64::from(args.hours))) else {
        return usage(format_args!(
            "grant: --not-before {} plus --hours {} is past the year 9999",
            not_before.format(&Rfc3339).unwrap_or_default(),
            args.hours
        ));
    };
    let spec = GrantSpec::new(args.courier, args.zones, not_before, expires_at, args.quota)
        .with_scope(scope)
        .with_device(device);
    crate::note(format_args!(
        "issuer key {}: public key {}",
        args.issuer.display(),
        key.public_key()
    ));
    match key.issue(&spec) {
        Ok(g) => {
            note_grant(&g);
            let text = g.to_string();
            if let Some(path) = &args.qr {
                if let Err(e) = crate::grant_qr::write(path, &text) {
                    return fail("grant --qr", e);
                }
            }
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => usage(format_args!("grant: {e}")),
    }
}

/// With `--verbose`, what a grant allows (never its text, which is a credential).
fn note_grant(g: &waybill_redact::Grant) {
    if !crate::verbose() {
        return;
    }
    let device = g
        .device()
        .map_or("a bearer grant, bound to no device".to_owned(), |d| {
            format!("bound to device {d}")
        });
    crate::note(format_args!(
        "grant {} for courier {}: zones {:?}, scope {}, quota {}, valid {} to {} (unix), {device}",
        g.id(),
        g.courier_id(),
        g.zones(),
        g.scope(),
        g.quota(),
        g.not_before(),
        g.expires_at()
    ));
}

/// `seal`: one token per good record on stdout, one line per bad record on stderr.
pub fn seal(args: SealArgs) -> ExitCode {
    let now = OffsetDateTime::now_utc();
    let (sealing, validity) = match args.keys.load(now).and_then(|s| {
        Ok((
            s,
            Validity::days(now, args.ttl_days).map_err(|e| e.to_string())?,
        ))
    }) {
        Ok(s) => s,
        Err(e) => return fail("seal", e),
    };
    crate::note(format_args!("tokens valid for {} day(s)", args.ttl_days));
    let limits = args.limits.limits();
    crate::input::lines_per_record(args.input.as_deref(), &limits, |position, w| {
        sealing
            .seal(&w, &validity)
            .map(|token| token.to_string())
            .map_err(|e| format!("record {position} ({}): {e}", w.tracking_number()))
    })
}

fn load_trusted(keys: &[String]) -> Result<Vec<IssuerPublicKey>, String> {
    keys.iter()
        .map(|k| credentials::public_key_arg("--trust", k))
        .collect()
}

fn load_revocations(resolver: &Resolver, path: &Path) -> Result<(), String> {
    for (i, line) in read(path)?.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: expected `grant ID` or `parcel TRACKING`",
                path.display(),
                i + 1
            )
        };
        match line.split_once(' ') {
            Some(("grant", id)) => resolver.revoke_grant(id.parse().map_err(|_| bad())?),
            Some(("parcel", tn)) => resolver.revoke_parcel(tn),
            _ => return Err(bad()),
        }
    }
    Ok(())
}

/// `resolve`: exit 0 with the disclosure JSON, 3 when denied, 1 on other errors.
pub fn resolve(args: ResolveArgs) -> ExitCode {
    let setup = (|| -> Result<_, String> {
        if args.grant == "-" && args.token == "-" {
            return Err("--grant - and TOKEN - both want standard input: put one in a file".into());
        }
        let grant = credentials::read_grant(&args.grant)?;
        let ring = load_ring(&args.ring)?;
        let trusted = load_trusted(&args.trust)?;
        let device = args
            .device
            .as_deref()
            .map(credentials::load_device_key)
            .transpose()?;
        let token = if args.token == "-" {
            read_token_from(std::io::stdin().lock())?
        } else {
            args.token.clone()
        };
        // With a log, quotas and rate limits carry over between runs: restore them
        // from the state file beside it, or by replaying it.
        let limiter = TokenBucket::default();
        let (sink, file_sink): (Arc<dyn AuditSink>, _) = match &args.audit {
            Some(path) => {
                let (sink, from) = JsonLinesFileSink::open_with_limiter(path, &limiter)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                crate::note(format_args!(
                    "audit log {}: quota and rate counters {}",
                    path.display(),
                    match from {
                        RestoredFrom::Nothing => "start empty (a new log)",
                        RestoredFrom::StateFile => "read from the state file beside it",
                        RestoredFrom::FullReplay => "replayed from the whole log",
                        _ => "restored",
                    }
                ));
                let sink = Arc::new(sink);
                (sink.clone(), Some(sink))
            }
            None => (Arc::new(MemorySink::new()), None),
        };
        let mut resolver = Resolver::new(ring, trusted, sink)
            .with_rate_limiter(Arc::new(limiter))
            .with_bearer_grants(args.allow_bearer_grants);
        if let Some(path) = &args.sealers {
            resolver = resolver.with_sealers(credentials::registry(path)?);
        }
        if let Some(now) = args.now {
            resolver = resolver.with_clock(Arc::new(FixedClock::new(now)));
        }
        for path in &args.revoked {
            load_revocations(&resolver, path)?;
        }
        if crate::verbose() {
            if let Ok(g) = Grant::parse(grant.trim()) {
                note_grant(&g);
            }
        }
        let mut request = ResolveRequest::new(args.purpose);
        // A grant that does not parse gets no proof: the resolver denies it as
        // `malformed_grant` and audits that, as it does every attempt.
        let grant_id = Grant::parse(grant.trim()).ok().map(|g| g.id());
        if let (Some(device), Some(grant_id)) = (device, grant_id) {
            let time = args
                .now
                .unwrap_or_else(OffsetDateTime::now_utc)
                .unix_timestamp();
            let time = u64::try_from(time).map_err(|_| "the clock is before 1970")?;
            let proof = device
                .prove(grant_id, args.purpose, &[token.trim()], time)
                .map_err(|e| e.to_string())?;
            request = request.with_proof(proof);
        }
        Ok((resolver, grant, token, request, file_sink))
    })();
    let (resolver, grant, token, request, file_sink) = match setup {
        Ok(s) => s,
        Err(e) => return fail("resolve", e),
    };
    let result = resolver.resolve(token.trim(), grant.trim(), &request);
    crate::note(format_args!(
        "resolve for {}: {}",
        args.purpose,
        match &result {
            Ok(d) => {
                let fields = [
                    ("name", d.name.is_some()),
                    ("phone", d.phone.is_some()),
                    ("address", d.address.is_some()),
                    ("items", d.items.is_some()),
                ];
                let shown: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
                format!(
                    "allowed, disclosing {} (on standard output)",
                    shown.join(",")
                )
            }
            Err(denied) => format!("denied ({})", denied.code()),
        }
    ));
    // The record is already durable; without the state file the next run replays the log.
    if let (Some(sink), Some(path)) = (file_sink, &args.audit) {
        if let Err(e) = sink.save_state() {
            eprintln!("warning: {}: audit state not saved: {e}", path.display());
        }
    }
    match result {
        Ok(disclosure) => match serde_json::to_string(&disclosure) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail("resolve", e),
        },
        Err(denied) => {
            eprintln!("denied: {denied} ({})", denied.code());
            ExitCode::from(DENIED)
        }
    }
}

/// `audit verify|export|key-new`.
pub fn audit(cmd: AuditCommand) -> ExitCode {
    match cmd {
        AuditCommand::Verify {
            log,
            key,
            witness,
            allow_unwitnessed,
            checkpoint,
        } => {
            let Some(key) = key else {
                return verify_chains(&log);
            };
            // Read first, so that a wrong kind of key is named in every build.
            let key = match audit_public_key(&key) {
                Ok(key) => key,
                Err(e) => return usage(format_args!("audit verify: {e}")),
            };
            #[cfg(feature = "audit-log")]
            match audit_rules(key, &witness, allow_unwitnessed, &checkpoint) {
                Ok(rules) => verify_with(&log, &rules),
                Err(e) => usage(format_args!("audit verify: {e}")),
            }
            #[cfg(not(feature = "audit-log"))]
            {
                let _ = (key, witness, allow_unwitnessed, checkpoint);
                crate::not_built("audit verify --key", "audit-log")
            }
        }
        #[cfg(feature = "serve")]
        AuditCommand::Export(args) => waybill_redact_service::export_command(&args),
        #[cfg(not(feature = "serve"))]
        AuditCommand::Export(_) => crate::not_built("audit export", "serve"),
        AuditCommand::KeyNew { out } => {
            let key = AuditKey::generate();
            match write_secret(&out, &key.to_json(), false) {
                Ok(()) => {
                    println!("{}", key.public_key());
                    ExitCode::SUCCESS
                }
                Err(e) => fail("audit", e),
            }
        }
    }
}

/// `audit verify --key`: the audit public key, as text or a file.
fn audit_public_key(key: &str) -> Result<AuditPublicKey, String> {
    credentials::key_text_or_file("--key", key, "WA1:")
        .and_then(|text| text.trim().parse().map_err(|e| format!("--key: {e}")))
}

/// The verification rules from `audit verify`'s flags.
#[cfg(feature = "audit-log")]
fn audit_rules(
    key: AuditPublicKey,
    witnesses: &[String],
    allow_unwitnessed: u64,
    checkpoints: &[PathBuf],
) -> Result<AuditRules, String> {
    let witnesses = witnesses
        .iter()
        .map(|w| {
            credentials::key_text_or_file("--witness", w, "WW1:").and_then(|text| {
                text.trim()
                    .parse::<WitnessPublicKey>()
                    .map_err(|e| format!("--witness: {e}"))
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let known = checkpoints
        .iter()
        .map(|path| {
            let text = read(path).map_err(|e| e.to_string())?;
            SignedCheckpoint::from_text(&text).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    crate::note(format_args!(
        "audit key {key}, {} witness key(s), {} known checkpoint(s), {allow_unwitnessed} \
         record(s) allowed after the last one",
        witnesses.len(),
        known.len()
    ));
    Ok(AuditRules {
        key: Some(key),
        witnesses,
        allow_unwitnessed,
        known,
    })
}

/// The log, opened for reading.
fn open_log(log: &Path) -> Result<std::io::BufReader<std::fs::File>, ExitCode> {
    let file =
        std::fs::File::open(log).map_err(|e| fail("audit", format!("{}: {e}", log.display())))?;
    if let Ok(meta) = file.metadata() {
        crate::note(format_args!(
            "audit log {}: {} bytes",
            log.display(),
            meta.len()
        ));
    }
    Ok(std::io::BufReader::new(file))
}

/// `audit verify` without a key: the hash chains only.
fn verify_chains(log: &Path) -> ExitCode {
    let file = match open_log(log) {
        Ok(f) => f,
        Err(code) => return code,
    };
    match verify_audit_log(file) {
        Ok(n) => {
            println!("ok: {n} records, chain intact (no key: checkpoints not checked)");
            ExitCode::SUCCESS
        }
        Err(e) => fail("audit", e),
    }
}

/// `audit verify --key`: chains, checkpoints and witnesses.
#[cfg(feature = "audit-log")]
fn verify_with(log: &Path, rules: &AuditRules) -> ExitCode {
    let file = match open_log(log) {
        Ok(f) => f,
        Err(code) => return code,
    };
    match verify_audit_log_with(file, rules) {
        Ok(r) if rules.witnesses.is_empty() => {
            println!(
                "ok: {} records in {} chains, {} signed checkpoints, {} records after the last checkpoint",
                r.records, r.chains, r.checkpoints, r.unsigned
            );
            ExitCode::SUCCESS
        }
        Ok(r) => {
            println!(
                "ok: {} records in {} chains, {} signed checkpoints, {} cosigned by a witness, {} records after the last cosigned checkpoint",
                r.records, r.chains, r.checkpoints, r.cosigned, r.unwitnessed
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail("audit", e),
    }
}
