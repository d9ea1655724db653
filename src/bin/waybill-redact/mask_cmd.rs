//! `waybill-redact mask`: the strings a label will print, one JSON object per record.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use std::ops::ControlFlow;

use waybill_redact::{
    mask, read_batch, AddressRule, ItemRule, MaskPolicy, NameRule, PartyPolicy, PhoneRule,
};

/// Arguments of `mask`.
#[derive(Args)]
pub struct MaskArgs {
    /// Waybills as a JSON array, JSON Lines or CSV (by extension, else detected);
    /// standard input when absent.
    #[arg(long, short)]
    input: Option<PathBuf>,
    /// How much of each address to show.
    #[arg(long, value_enum, default_value_t = AddressArg::Street)]
    address: AddressArg,
    /// Hide names completely instead of showing the surname.
    #[arg(long)]
    hide_names: bool,
    /// Hide phone digits completely instead of showing at most the last 4.
    #[arg(long)]
    hide_phones: bool,
    /// Hide the item count as well.
    #[arg(long)]
    hide_item_count: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum AddressArg {
    /// Province, city, district and road name.
    Street,
    /// Province, city and district.
    District,
    /// Province and city.
    City,
}

impl MaskArgs {
    fn policy(&self) -> MaskPolicy {
        let party = PartyPolicy::default()
            .with_address(match self.address {
                AddressArg::Street => AddressRule::Street,
                AddressArg::District => AddressRule::District,
                AddressArg::City => AddressRule::City,
            })
            .with_name(if self.hide_names {
                NameRule::Hidden
            } else {
                NameRule::Surname
            })
            .with_phone(if self.hide_phones {
                PhoneRule::Hidden
            } else {
                PhoneRule::LastDigits
            });
        MaskPolicy::default()
            .with_recipient(party.clone())
            .with_sender(party)
            .with_items(if self.hide_item_count {
                ItemRule::Hidden
            } else {
                ItemRule::Count
            })
    }
}

/// Runs `mask`: exit 0 when every record was masked, 1 when any failed.
pub fn run(args: &MaskArgs) -> ExitCode {
    let input = match crate::input::open(args.input.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let policy = args.policy();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    let mut write_failed = false;
    let read = read_batch(
        input,
        crate::input::format_of(args.input.as_deref()),
        |_, record| {
            match record {
                Ok(waybill) => {
                    let masked = mask(&waybill, &policy);
                    let written =
                        serde_json::to_writer(&mut out, &masked).is_ok() && writeln!(out).is_ok();
                    if !written {
                        write_failed = true;
                        return ControlFlow::Break(());
                    }
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                }
            }
            ControlFlow::Continue(())
        },
    );
    if let Err(e) = read {
        eprintln!("error: cannot read input: {e}");
        return ExitCode::from(1);
    }
    if write_failed || out.flush().is_err() {
        eprintln!("error: cannot write to standard output");
        return ExitCode::from(1);
    }
    if failed > 0 {
        eprintln!("{failed} record(s) failed");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
