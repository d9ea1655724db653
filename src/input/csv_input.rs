//! CSV input: flat columns mapped onto the JSON input format, so that CSV records
//! get exactly the same validation and errors as JSON ones.

use std::io::BufRead;

use serde_json::{Map, Value};

use super::batch::Each;
use super::csv_rows::{Row, Rows};
use super::json::{record, tracking_number};
use super::json_strict;
use crate::input::{InputLimits, RecordError};
use crate::model::ModelError;
use crate::model::Waybill;

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

pub(super) fn read_csv<R: BufRead>(
    reader: R,
    limits: &InputLimits,
    each: &mut Each<'_>,
) -> std::io::Result<()> {
    let mut rows = Rows::new(reader, limits.max_record_bytes());
    let header_error = |each: &mut Each<'_>, error| {
        let _ = each(
            0,
            Err(RecordError {
                position: 0,
                tracking_number: None,
                error,
            }),
        );
    };
    let headers: Vec<String> = match rows.next_row()? {
        Row::End => return Ok(()),
        Row::Fields => rows
            .fields()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect(),
        Row::TooLarge | Row::Binary => {
            let reason = "the header row is longer than the record size limit";
            header_error(each, ModelError::Csv { line: 1, reason });
            return Ok(());
        }
    };
    if let Some((first, second)) = duplicate(&headers) {
        header_error(
            each,
            ModelError::DuplicateColumn {
                line: 1,
                first,
                second,
            },
        );
        return Ok(());
    }
    let mut position = 0usize;
    loop {
        let line = rows.line();
        let row = rows.next_row()?;
        if row == Row::End {
            return Ok(());
        }
        position += 1;
        let failed = |error| {
            Err(RecordError {
                position,
                tracking_number: None,
                error,
            })
        };
        let result = match row {
            Row::Fields if rows.fields().count() != headers.len() => failed(ModelError::Csv {
                line,
                reason: "wrong number of cells or bad quoting",
            }),
            Row::Fields => csv_row(&headers, rows.fields(), position, line, limits),
            Row::TooLarge => failed(ModelError::RecordTooLarge {
                max: limits.max_record_bytes(),
            }),
            Row::Binary | Row::End => {
                let _ = each(position, failed(ModelError::BinaryInput));
                return Ok(());
            }
        };
        if each(position, result).is_break() {
            return Ok(());
        }
    }
}

/// The 1-based numbers of the first two columns with the same (non-empty) name.
fn duplicate(headers: &[String]) -> Option<(usize, usize)> {
    headers.iter().enumerate().find_map(|(j, h)| {
        let i = headers
            .get(..j)?
            .iter()
            .position(|earlier| !h.is_empty() && earlier == h)?;
        Some((i + 1, j + 1))
    })
}

fn csv_row<'a>(
    headers: &[String],
    row: impl Iterator<Item = &'a [u8]>,
    position: usize,
    line: u64,
    limits: &InputLimits,
) -> Result<Waybill, RecordError> {
    let mut cells = Map::new();
    for (h, cell) in headers.iter().zip(row) {
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
    let value = csv_to_json(cells, limits.max_items());
    match value {
        Ok(value) => record(position, &value),
        Err((error, value)) => Err(RecordError {
            position,
            tracking_number: tracking_number(&value),
            error,
        }),
    }
}

/// Maps flat CSV cells onto the JSON input format. An `items_json` cell is parsed
/// as strictly as a JSON record; its error comes back with what was mapped.
fn csv_to_json(
    mut cells: Map<String, Value>,
    max_items: usize,
) -> Result<Value, (ModelError, Value)> {
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
        match json_strict::parse(items.as_bytes(), "items", max_items) {
            Ok(items) => {
                out.insert("items".into(), items);
            }
            // Malformed JSON reads as "items: expected an array", as before.
            Err(ModelError::Json { .. }) => {
                out.insert("items".into(), Value::String(String::new()));
            }
            Err(e) => return Err((e, Value::Object(out))),
        }
    } else if !item.is_empty() {
        out.insert("items".into(), Value::Array(vec![Value::Object(item)]));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use crate::input::CSV_PARTY_COLUMNS;

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
