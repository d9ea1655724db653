//! `waybill-redact mask`: the strings a label will print, one JSON object per record.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use waybill_redact::{mask, AddressRule, ItemRule, MaskPolicy, NameRule, PartyPolicy, PhoneRule};

/// Arguments of `mask`.
#[derive(Args)]
pub struct MaskArgs {
    /// Waybills as a JSON array, JSON Lines or CSV (by extension, else detected);
    /// standard input when absent or `-`.
    #[arg(long, short)]
    input: Option<PathBuf>,
    #[command(flatten)]
    limits: crate::input::LimitArgs,
    /// How much of each address to show.
    #[arg(long, value_enum, ignore_case = true, default_value_t = AddressArg::Street)]
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
    let policy = args.policy();
    crate::input::lines_per_record(
        args.input.as_deref(),
        &args.limits.limits(),
        |position, waybill| {
            let masked = mask(&waybill, &policy);
            for w in masked.warnings().iter().filter(|_| !crate::quiet()) {
                eprintln!(
                    "warning: record {position} ({}): {w}",
                    masked.tracking_number().as_str()
                );
            }
            serde_json::to_string(&masked).map_err(|e| e.to_string())
        },
    )
}
