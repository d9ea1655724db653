//! Output files: written under a temporary name of our own, synced, then renamed,
//! so a killed run never leaves a half-written label under a real name; and the
//! temporary files a killed run did leave are cleaned up by the next one.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zeroize::Zeroizing;

/// Every temporary file we create starts with this, then the process id and `-`.
const TEMP_PREFIX: &str = ".waybill-redact-";

/// Label files are for print spoolers running as other users.
pub const LABEL_MODE: u32 = 0o644;

/// A temporary file in `dir`, named after this process, with `mode`.
pub fn temp_in(dir: &Path, mode: u32) -> std::io::Result<tempfile::NamedTempFile> {
    // Made once: a batch creates one temporary file per label.
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| format!("{TEMP_PREFIX}{}-", std::process::id()));
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename. The
/// folder itself is synced by [`sync_dir`] once a batch is done.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = temp_in(dir, mode)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Makes the renames in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Removes the temporary files that an earlier run of ours left in `dir` when it
/// was killed: only names with our prefix whose process is gone. Returns how many.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !alive && is_file && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Reads a whole text file; the error names the path.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::note(format_args!(
        "read {} ({} bytes)",
        path.display(),
        text.len()
    ));
    Ok(text)
}

/// Reads a file holding a secret key (a ring, an issuer, device or sealer key)
/// into a buffer that is wiped when dropped; one that group or others may open
/// is refused (the library's one check, as the service's).
pub(crate) fn read_secret(path: &Path) -> Result<Zeroizing<String>, String> {
    waybill_redact::read_secret_key_file(path).map_err(|e| e.to_string())
}

/// Writes a secret file atomically with owner-only permissions.
pub(crate) fn write_secret(path: &Path, text: &str, overwrite: bool) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // NamedTempFile is created with mode 0600 on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| err(&e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| err(&e))?;
    tmp.write_all(b"\n").map_err(|e| err(&e))?;
    tmp.as_file().sync_all().map_err(|e| err(&e))?;
    if overwrite {
        tmp.persist(path).map_err(|e| err(&e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| err(&e.error))?;
    }
    crate::note(format_args!("wrote {} (owner-only)", path.display()));
    Ok(())
}

/// Writes a public file atomically (mode 0644 is fine: nothing secret).
pub(crate) fn write_public(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, format!("{text}\n"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    crate::note(format_args!("wrote {}", path.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_stale_temps_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // A pid far above any pid_max: no such process.
        let stale = dir.path().join(format!("{TEMP_PREFIX}4999999-abc"));
        let live = dir
            .path()
            .join(format!("{TEMP_PREFIX}{}-abc", std::process::id()));
        let other = dir.path().join(".other-4999999-abc");
        let label = dir.path().join("SF1.png");
        for p in [&stale, &live, &other, &label] {
            std::fs::write(p, b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(dir.path()), 1);
        assert!(!stale.exists());
        assert!(live.exists() && other.exists() && label.exists());
    }

    #[test]
    fn labels_are_written_0644() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        write_atomic(&path, b"png", LABEL_MODE).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(std::fs::read(&path).unwrap(), b"png");
        assert_eq!(remove_stale_temps(dir.path()), 0);
    }
}
