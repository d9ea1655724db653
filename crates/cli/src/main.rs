//! The `waybill-redact` command: a thin layer over the library.
//!
//! Exit codes: 0 success, 1 failure (some records failed, a broken audit log,
//! unreadable files), 2 usage, 3 resolve denied.

mod courier_cmd;
#[cfg(feature = "courier")]
mod courier_resolve;
mod credentials;
mod directory_fetch;
mod files;
mod grant_qr;
mod input;
mod keys_cmd;
mod mask_cmd;
#[cfg(feature = "fetch")]
mod net;
mod pipeline;
mod render_cmd;
mod seller_cmd;
mod token_cmd;
#[cfg(feature = "serve")]
mod witness_cmd;

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

/// glibc's allocator hands each freed 120 KB label raster back to the kernel and
/// faults it in again for the next label; mimalloc keeps it, which saves a third of
/// the time per label in a batch.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Privacy express waybills: GB/T 41833-2022 masking, sealed courier tokens and
/// thermal-ready labels.
#[derive(Parser)]
#[command(name = "waybill-redact", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    /// Print errors only: no warnings, no progress, no summaries.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Say what is done, on standard error: the files read and written, the keys
    /// used (key ids and public keys), counts and timings. Never a waybill's or a
    /// disclosure's value, a grant's text or a secret.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

/// 0 quiet, 1 normal, 2 verbose: set once from the command line.
static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

/// `--quiet` was given.
pub(crate) fn quiet() -> bool {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed) == 0
}

/// `--verbose` was given.
pub(crate) fn verbose() -> bool {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed) == 2
}

/// With `--verbose`, says `what` on standard error. Callers pass paths, counts,
/// key ids, public keys and timings: never a waybill's or a disclosure's value,
/// a grant's text or a secret.
pub(crate) fn note(what: std::fmt::Arguments<'_>) {
    if verbose() {
        eprintln!("waybill-redact: {what}");
    }
}

/// The command's name as typed: `render`, `keys new`, `audit verify`.
fn command_name(matches: &ArgMatches) -> String {
    let mut names = Vec::new();
    let mut at = matches;
    while let Some((name, sub)) = at.subcommand() {
        names.push(name);
        at = sub;
    }
    names.join(" ")
}

#[derive(Subcommand)]
enum Command {
    /// Mask waybills and print, per record, the strings a label will show (JSON Lines).
    Mask(mask_cmd::MaskArgs),
    /// Render labels: mask, seal a QR token and draw each waybill (PNG, ZPL or PDF).
    #[command(after_help = "Examples:
  waybill-redact render --input orders.json --ring ring.json --create-ring --out labels/
  waybill-redact render --input orders.csv --ring ring.json --format pdf --single-file --out labels.pdf
  cat orders.jsonl | waybill-redact render --input - --ring ring.json --format zpl \\
      --single-file --out - | nc printer 9100")]
    Render(render_cmd::RenderArgs),
    /// Create, rotate or retire the carrier's token key ring, or publish its
    /// zone directory for sellers.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Sealer keys of sellers and carrier stations (suite 3): create one, or register or revoke one
    /// in the carrier's registry.
    #[command(subcommand)]
    Sealer(seller_cmd::SealerCommand),
    /// Create the carrier's grant issuer key.
    #[command(subcommand)]
    Issuer(keys_cmd::IssuerCommand),
    /// Issue a signed courier grant and print its text.
    #[command(after_help = "Examples:
  waybill-redact grant --issuer issuer.json --courier C-10023 --zones 755021,755022 \\
      --device-key WD1:… > grant.txt
  waybill-redact grant --issuer issuer.json --courier C-10023 --zones 755021 \\
      --device-key device.pub --hours 8 --quota 200 --scope name,phone,address")]
    Grant(token_cmd::GrantArgs),
    /// Seal waybills into tokens, one per line.
    #[command(after_help = "Examples:
  waybill-redact seal --ring ring.json --input orders.json > tokens.txt
  waybill-redact seal --directory directory.json --sealer seller.json --carrier WI1:… --input -")]
    Seal(token_cmd::SealArgs),
    /// Resolve a token with a courier grant and print the disclosure as JSON.
    Resolve(token_cmd::ResolveArgs),
    /// The courier's device: make its key, or scan a label and resolve it
    /// through the carrier's resolver service.
    #[command(subcommand)]
    Courier(courier_cmd::CourierCommand),
    /// Verify or export the resolver's audit log; create an audit key.
    #[command(subcommand)]
    Audit(token_cmd::AuditCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:
  waybill-redact completions bash > ~/.local/share/bash-completion/completions/waybill-redact")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on standard output.
    #[command(after_help = "Example:
  waybill-redact man > waybill-redact.1 && man ./waybill-redact.1")]
    Man,
    /// Run the resolver service (HTTP) over a SQLite or PostgreSQL store.
    #[cfg(feature = "serve")]
    Serve(waybill_redact_service::ServeArgs),
    /// Not in this build: `serve` needs the `serve` feature.
    #[cfg(not(feature = "serve"))]
    #[command(hide = true)]
    Serve(NotBuilt),
    /// Apply the resolver's PostgreSQL schema as its owner, and grant the
    /// service's role exactly what it needs.
    #[cfg(feature = "serve")]
    Migrate(waybill_redact_service::MigrateArgs),
    /// Not in this build: `migrate` needs the `serve` feature.
    #[cfg(not(feature = "serve"))]
    #[command(hide = true)]
    Migrate(NotBuilt),
    /// Run a witness that cosigns audit checkpoints (c2sp.org tlog-witness), or
    /// create its key.
    #[cfg(feature = "serve")]
    #[command(subcommand)]
    Witness(witness_cmd::WitnessCommand),
    /// Not in this build: `witness` needs the `serve` feature.
    #[cfg(not(feature = "serve"))]
    #[command(hide = true)]
    Witness(NotBuilt),
}

/// The arguments of a command this build leaves out (see [`not_built`]).
#[derive(Debug, clap::Args)]
pub(crate) struct NotBuilt {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

/// Says which feature a command left out of this build needs, and exits 2.
#[allow(dead_code)] // Unused when every feature is on.
pub(crate) fn not_built(command: &str, feature: &str) -> ExitCode {
    eprintln!(
        "error: `{command}` is not in this build of waybill-redact; build it with \
         `cargo install waybill-redact-cli --features {feature}` (or `--features full`), \
         or from a clone `cargo run --release --features {feature} -- {command} …`"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // A closed pipe (`… | head`) ends the program quietly, as for any Unix tool,
    // instead of a panic in the next print.
    sigpipe::reset();
    // Keys and waybills must not end up in a core file.
    if let Err(e) = rlimit::setrlimit(rlimit::Resource::CORE, 0, 0) {
        eprintln!("warning: cannot disable core dumps: {e}");
    }
    // clap exits with 2 on usage errors and 0 for --help / --version.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let level = if cli.quiet {
        0
    } else if cli.verbose {
        2
    } else {
        1
    };
    VERBOSITY.store(level, std::sync::atomic::Ordering::Relaxed);
    let started = std::time::Instant::now();
    let code = run(cli.command);
    note(format_args!(
        "{} finished in {:.3} s",
        command_name(&matches),
        started.elapsed().as_secs_f64()
    ));
    code
}

fn run(command: Command) -> ExitCode {
    match command {
        Command::Mask(args) => mask_cmd::run(&args),
        Command::Render(args) => render_cmd::run(args),
        Command::Keys(c) => keys_cmd::keys(c),
        Command::Issuer(c) => keys_cmd::issuer(c),
        Command::Sealer(c) => seller_cmd::sealer(c),
        Command::Grant(a) => token_cmd::grant(a),
        Command::Seal(a) => token_cmd::seal(a),
        Command::Resolve(a) => token_cmd::resolve(a),
        Command::Courier(c) => courier_cmd::courier(c),
        Command::Audit(c) => token_cmd::audit(c),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "waybill-redact",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail("man", e),
            }
        }
        #[cfg(feature = "serve")]
        Command::Serve(args) => waybill_redact_service::serve_command(&args),
        #[cfg(not(feature = "serve"))]
        Command::Serve(_) => not_built("serve", "serve"),
        #[cfg(feature = "serve")]
        Command::Migrate(args) => waybill_redact_service::migrate_command(&args),
        #[cfg(not(feature = "serve"))]
        Command::Migrate(_) => not_built("migrate", "serve"),
        #[cfg(feature = "serve")]
        Command::Witness(c) => witness_cmd::witness(c),
        #[cfg(not(feature = "serve"))]
        Command::Witness(_) => not_built("witness", "serve"),
    }
}

/// The exit codes, as `--help` shows them.
const EXIT_CODES: &str = "Exit codes:
  0  success
  1  some records failed, a check failed (a broken audit log), a key file that cannot
     be used, or an error during the run
  2  usage error: bad or conflicting options, including those found after parsing,
     and a missing or unreadable --input file (render also: --logo, --font, the
     ring), all before any work starts
  3  resolve denied (resolve, courier resolve)";

/// Exit code for a usage error: found by clap, or after parsing (options that do
/// not go together, an input file that cannot be read).
pub(crate) const USAGE: u8 = 2;

/// Prints an error and returns exit code 1.
pub(crate) fn fail(context: &str, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {context}: {e}");
    ExitCode::FAILURE
}
