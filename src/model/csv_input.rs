//! CSV input: flat columns mapped onto the JSON input format, so that CSV records
//! get exactly the same validation and errors as JSON ones.

use std::io::Read;

use serde_json::{Map, Value};

use super::batch::Each;
use super::json::record;
use super::{RecordError, Waybill};
use crate::error::ModelError;

/// The CSV columns understood, besides the per-party ones. Every party column is
/// `recipient_` or `sender_` followed by one of [`CSV_PARTY_COLUMNS`]. Unknown
/// columns are ignored; empty cells count as absent.
pub const CSV_COLUMNS: [&str; 12] = [
    "tracking_number",
    "zone",
    "carrier",
    "service",
    "sort_code",
    "hub",
    "weight_grams",
    "created_at",
    "item_description",
    "item_category",
    "item_quantity",
    "items_json",
];

/// Party columns, after the `recipient_` or `sender_` prefix. `address` is a
/// free-form address; the others build a structured one when `address` is empty.
pub const CSV_PARTY_COLUMNS: [&str; 14] = [
    "name",
    "phone",
    "address",
    "country",
    "province",
    "region",
    "city",
    "district",
    "street",
    "detail",
    "postal_code",
    "virtual_phone",
    "virtual_extension",
    "virtual_expires_at",
];

pub(super) fn read_csv<R: Read>(reader: R, each: &mut Each<'_>) -> std::io::Result<()> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let headers: Vec<String> = match csv.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect(),
        Err(e) => {
            csv_io(e)?;
            let error = ModelError::Csv {
                line: 1,
                reason: "the header row is malformed",
            };
            let _ = each(
                0,
                Err(RecordError {
                    position: 0,
                    tracking_number: None,
                    error,
                }),
            );
            return Ok(());
        }
    };
    let mut row = csv::ByteRecord::new();
    let mut position = 0usize;
    loop {
        let line = csv.position().line();
        let result = match csv.read_byte_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                position += 1;
                csv_row(&headers, &row, position)
            }
            Err(e) => {
                position += 1;
                csv_io(e)?;
                Err(RecordError {
                    position,
                    tracking_number: None,
                    error: ModelError::Csv {
                        line,
                        reason: "wrong number of cells or bad quoting",
                    },
                })
            }
        };
        if each(position, result).is_break() {
            return Ok(());
        }
    }
}

/// Passes I/O errors up; other CSV errors are per-row.
fn csv_io(e: csv::Error) -> std::io::Result<()> {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Err(io),
        _ => Ok(()),
    }
}

fn csv_row(
    headers: &[String],
    row: &csv::ByteRecord,
    position: usize,
) -> Result<Waybill, RecordError> {
    let line = row.position().map_or(0, csv::Position::line);
    let mut cells = Map::new();
    for (h, cell) in headers.iter().zip(row.iter()) {
        let Ok(text) = std::str::from_utf8(cell) else {
            return Err(RecordError {
                position,
                tracking_number: None,
                error: ModelError::Csv {
                    line,
                    reason: "a cell is not UTF-8",
                },
            });
        };
        let text = text.trim();
        if !text.is_empty() {
            cells.insert(h.clone(), Value::String(text.to_owned()));
        }
    }
    record(position, &csv_to_json(cells))
}

/// Maps flat CSV cells onto the JSON input format.
fn csv_to_json(mut cells: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in [
        "tracking_number",
        "zone",
        "carrier",
        "service",
        "weight_grams",
        "created_at",
    ] {
        if let Some(v) = cells.remove(key) {
            out.insert(key.into(), v);
        }
    }
    let mut routing = Map::new();
    for key in ["sort_code", "hub"] {
        if let Some(v) = cells.remove(key) {
            routing.insert(key.into(), v);
        }
    }
    if !routing.is_empty() {
        out.insert("routing".into(), Value::Object(routing));
    }
    for role in ["recipient", "sender"] {
        let mut party = Map::new();
        let mut take = |k: &str| cells.remove(&format!("{role}_{k}"));
        for key in ["name", "phone"] {
            if let Some(v) = take(key) {
                party.insert(key.into(), v);
            }
        }
        let mut address = Map::new();
        // country … postal_code: the structured address columns.
        for &key in &CSV_PARTY_COLUMNS[3..11] {
            if let Some(v) = take(key) {
                address.insert(key.into(), v);
            }
        }
        match take("address") {
            Some(free) => {
                party.insert("address".into(), free);
            }
            None if !address.is_empty() => {
                party.insert("address".into(), Value::Object(address));
            }
            None => {}
        }
        let mut virt = Map::new();
        for (col, key) in [
            ("virtual_phone", "number"),
            ("virtual_extension", "extension"),
            ("virtual_expires_at", "expires_at"),
        ] {
            if let Some(v) = take(col) {
                virt.insert(key.into(), v);
            }
        }
        if !virt.is_empty() {
            party.insert("virtual_phone".into(), Value::Object(virt));
        }
        if !party.is_empty() {
            out.insert(role.into(), Value::Object(party));
        }
    }
    let mut item = Map::new();
    for (col, key) in [
        ("item_description", "description"),
        ("item_category", "category"),
        ("item_quantity", "quantity"),
    ] {
        if let Some(v) = cells.remove(col) {
            let v = match (key, &v) {
                ("quantity", Value::String(s)) => s.parse::<u64>().map_or(v.clone(), Value::from),
                _ => v,
            };
            item.insert(key.into(), v);
        }
    }
    if let Some(Value::String(items)) = cells.remove("items_json") {
        out.insert(
            "items".into(),
            serde_json::from_str(&items).unwrap_or(Value::String(String::new())),
        );
    } else if !item.is_empty() {
        out.insert("items".into(), Value::Array(vec![Value::Object(item)]));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::CSV_PARTY_COLUMNS;

    #[test]
    fn structured_address_columns_are_where_the_mapping_reads_them() {
        assert_eq!(
            CSV_PARTY_COLUMNS[3..11],
            [
                "country",
                "province",
                "region",
                "city",
                "district",
                "street",
                "detail",
                "postal_code"
            ]
        );
    }
}
