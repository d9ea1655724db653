//! Settings from the environment: `WAYBILL_RESOLVER_<KEY>` for every key of
//! the config file (`rate.burst` is `WAYBILL_RESOLVER_RATE__BURST`), and
//! `WAYBILL_RESOLVER_<KEY>_FILE` naming a file that holds the value (secrets,
//! as systemd credentials and container secrets provide them; the file's
//! content is trimmed). They override the file; flags override them.

use crate::error::ServiceError;

/// The prefix of every variable.
pub(crate) const PREFIX: &str = "WAYBILL_RESOLVER_";

/// Variables that clap reads itself (settings that exist before the file).
const FLAG_ONLY: &[&str] = &["LOG_FORMAT"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Taken as it is.
    Text,
    /// Comma-separated.
    List,
    /// A TOML number or boolean.
    Scalar,
    /// Any TOML value, written as in the file (`[{ url = "…", key = "WW1:…" }]`).
    Toml,
}

/// Every key of the file, as a variable names it.
const KEYS: &[(&str, Kind)] = &[
    ("ring", Kind::Text),
    ("trust", Kind::List),
    ("store", Kind::Text),
    ("listen", Kind::Text),
    ("admin_listen", Kind::Text),
    ("instance", Kind::Text),
    ("audit_key", Kind::Text),
    ("checkpoint_every", Kind::Scalar),
    ("admin_key_sha256", Kind::Text),
    ("rate.burst", Kind::Scalar),
    ("rate.per_minute", Kind::Scalar),
    ("noise_per_minute", Kind::Scalar),
    ("trusted_proxies", Kind::List),
    ("revocation_refresh_ms", Kind::Scalar),
    ("max_skew_secs", Kind::Scalar),
    ("allow_bearer_grants", Kind::Scalar),
    ("request_window_secs", Kind::Scalar),
    ("max_grant_hours", Kind::Scalar),
    ("request_timeout_ms", Kind::Scalar),
    ("store_timeout_ms", Kind::Scalar),
    ("header_read_timeout_ms", Kind::Scalar),
    ("idle_timeout_ms", Kind::Scalar),
    ("max_connections", Kind::Scalar),
    ("sealers", Kind::Text),
    ("directories", Kind::List),
    ("max_token_days", Kind::Scalar),
    ("reload_check_ms", Kind::Scalar),
    ("courier_app", Kind::Scalar),
    ("checkpoint_secs", Kind::Scalar),
    ("max_unwitnessed_secs", Kind::Scalar),
    ("require_witness", Kind::Scalar),
    ("witness", Kind::Toml),
];

/// Writes the variables among `vars` over `table` (the file's settings).
/// `read_file` reads a `_FILE` variable's file.
///
/// # Errors
/// [`ServiceError::Config`] naming the variable: an unknown key, a value of the
/// wrong kind, an unreadable file, or a key set both directly and by `_FILE`.
pub(crate) fn overlay(
    table: &mut toml::Table,
    vars: impl IntoIterator<Item = (String, String)>,
    read_file: impl Fn(&str) -> std::io::Result<String>,
) -> Result<(), ServiceError> {
    let mut seen = std::collections::HashSet::new();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if FLAG_ONLY.contains(&rest) {
            continue;
        }
        let (key_part, value) = match rest.strip_suffix("_FILE") {
            Some(k) if lookup(k).is_some() => {
                let text = read_file(&value)
                    .map_err(|e| ServiceError::Config(format!("{name}: {value}: {e}")))?;
                (k, text.trim().to_owned())
            }
            _ => (rest, value),
        };
        let (key, kind) = lookup(key_part)
            .ok_or_else(|| ServiceError::Config(format!("{name}: no such setting")))?;
        if !seen.insert(key) {
            return Err(ServiceError::Config(format!(
                "{name}: {PREFIX}{key_part} is set twice (directly and by _FILE)"
            )));
        }
        let parsed = parse(kind, &value).ok_or_else(|| {
            ServiceError::Config(match kind {
                Kind::Toml => format!("{name}: not a TOML value"),
                _ => format!("{name}: not a number or boolean"),
            })
        })?;
        set(table, key, parsed);
    }
    Ok(())
}

/// The key a variable's name (after the prefix) stands for.
fn lookup(upper: &str) -> Option<(&'static str, Kind)> {
    let dotted = upper.to_ascii_lowercase().replace("__", ".");
    KEYS.iter().find(|(k, _)| *k == dotted).copied()
}

fn parse(kind: Kind, value: &str) -> Option<toml::Value> {
    match kind {
        Kind::Text => Some(toml::Value::String(value.to_owned())),
        Kind::List => Some(toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        )),
        Kind::Scalar => {
            let doc: toml::Table = format!("v = {value}").parse().ok()?;
            doc.get("v")
                .filter(|v| v.is_integer() || v.is_bool() || v.is_float())
                .cloned()
        }
        Kind::Toml => {
            let doc: toml::Table = format!("v = {value}").parse().ok()?;
            doc.get("v").cloned()
        }
    }
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    match key.split_once('.') {
        Some((outer, inner)) => {
            let entry = table
                .entry(outer)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                t.insert(inner.to_owned(), value);
            }
        }
        None => {
            table.insert(key.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn no_files(_: &str) -> std::io::Result<String> {
        Err(std::io::Error::other("no files here"))
    }

    #[test]
    fn every_key_can_come_from_the_environment() {
        let mut table: toml::Table =
            "store = \"sqlite:file.db\"\nnoise_per_minute = 5\n[rate]\nburst = 3\nper_minute = 9\n"
                .parse()
                .unwrap();
        overlay(
            &mut table,
            vars(&[
                ("WAYBILL_RESOLVER_RING", "/run/ring.json"),
                ("WAYBILL_RESOLVER_TRUST", "WI1:aa, WI1:bb"),
                ("WAYBILL_RESOLVER_STORE", "postgres://db/resolver"),
                ("WAYBILL_RESOLVER_LISTEN", "0.0.0.0:8080"),
                ("WAYBILL_RESOLVER_ADMIN_LISTEN", "127.0.0.1:9999"),
                ("WAYBILL_RESOLVER_INSTANCE", "7"),
                ("WAYBILL_RESOLVER_AUDIT_KEY", "/run/audit.json"),
                ("WAYBILL_RESOLVER_CHECKPOINT_EVERY", "10"),
                ("WAYBILL_RESOLVER_RATE__BURST", "4"),
                ("WAYBILL_RESOLVER_TRUSTED_PROXIES", "10.0.0.0/8"),
                ("WAYBILL_RESOLVER_ALLOW_BEARER_GRANTS", "true"),
                ("WAYBILL_RESOLVER_REQUEST_TIMEOUT_MS", "1500"),
                ("WAYBILL_RESOLVER_MAX_CONNECTIONS", "99"),
                ("WAYBILL_RESOLVER_LOG_FORMAT", "json"),
                ("OTHER", "ignored"),
            ]),
            no_files,
        )
        .unwrap();
        let c: Config = table.try_into().unwrap();
        assert_eq!(c.ring.to_str(), Some("/run/ring.json"));
        assert_eq!(c.trust, ["WI1:aa", "WI1:bb"]);
        assert_eq!(
            c.store, "postgres://db/resolver",
            "the environment wins over the file"
        );
        assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(c.admin_listen.port(), 9999);
        assert_eq!(c.instance, "7", "text stays text");
        assert_eq!(c.checkpoint_every, 10);
        assert_eq!(
            (c.rate.burst, c.rate.per_minute),
            (4, 9),
            "one nested key, the other from the file"
        );
        assert_eq!(c.noise_per_minute, 5, "unset: the file's");
        assert_eq!(c.trusted_proxies, ["10.0.0.0/8"]);
        assert!(c.allow_bearer_grants);
        assert_eq!(c.request_timeout_ms, 1500);
        assert_eq!(c.max_connections, 99);
    }

    #[test]
    fn witnesses_come_from_the_environment_as_toml() {
        let mut table = toml::Table::new();
        overlay(
            &mut table,
            vars(&[(
                "WAYBILL_RESOLVER_WITNESS",
                r#"[{ url = "http://127.0.0.1:7380", key = "WW1:00" }]"#,
            )]),
            |_| unreachable!(),
        )
        .unwrap();
        let witness = table["witness"].as_array().unwrap();
        assert_eq!(witness.len(), 1);
        assert_eq!(witness[0]["url"].as_str(), Some("http://127.0.0.1:7380"));
        let err = overlay(
            &mut table,
            vars(&[("WAYBILL_RESOLVER_WITNESS", "[{ url = ")]),
            |_| unreachable!(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a TOML value"), "{err}");
    }

    #[test]
    fn every_key_of_the_file_has_a_variable() {
        // serde names every field it expects when it meets an unknown one.
        let mut t = toml::Table::new();
        t.insert("no_such_key".into(), toml::Value::Integer(1));
        let err = t
            .try_into::<Config>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let expected: Vec<&str> = err
            .split("expected one of ")
            .nth(1)
            .unwrap_or("")
            .split(", ")
            .map(|f| f.trim().trim_matches('`'))
            .filter(|f| !f.is_empty())
            .collect();
        assert!(expected.len() > 10, "{err}");
        for field in expected {
            let found = KEYS
                .iter()
                .any(|(k, _)| *k == field || k.split('.').next() == Some(field));
            assert!(found, "no WAYBILL_RESOLVER_ variable for `{field}`");
        }
    }

    #[test]
    fn secrets_come_from_files_and_mistakes_name_the_variable() {
        let mut table = toml::Table::new();
        let read = |path: &str| {
            assert_eq!(path, "/run/credentials/store");
            Ok("postgres://resolver:s3cret@db/resolver\n".to_owned())
        };
        overlay(
            &mut table,
            vars(&[("WAYBILL_RESOLVER_STORE_FILE", "/run/credentials/store")]),
            read,
        )
        .unwrap();
        assert_eq!(
            table["store"].as_str(),
            Some("postgres://resolver:s3cret@db/resolver")
        );
        for (bad, files, says) in [
            (
                vars(&[("WAYBILL_RESOLVER_NOPE", "1")]),
                true,
                "WAYBILL_RESOLVER_NOPE: no such setting",
            ),
            (
                vars(&[("WAYBILL_RESOLVER_MAX_CONNECTIONS", "many")]),
                true,
                "WAYBILL_RESOLVER_MAX_CONNECTIONS: not a number",
            ),
            (
                vars(&[("WAYBILL_RESOLVER_RING_FILE", "/nowhere")]),
                false,
                "WAYBILL_RESOLVER_RING_FILE: /nowhere",
            ),
            (
                vars(&[
                    ("WAYBILL_RESOLVER_STORE", "sqlite:a"),
                    ("WAYBILL_RESOLVER_STORE_FILE", "/x"),
                ]),
                true,
                "set twice",
            ),
        ] {
            let read = |p: &str| {
                if files {
                    Ok(format!("from {p}"))
                } else {
                    no_files(p)
                }
            };
            let err = overlay(&mut toml::Table::new(), bad, read)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(says), "{err:?} should say {says:?}");
        }
    }
}
