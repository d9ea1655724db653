#!/usr/bin/env bash
# `cargo deny check advisories`, offline, against the RustSec snapshot beside the
# repository (../shared/advisory-db, or $ADVISORY_DB), as
# ../shared/scripts/cargo-deny-advisories.sh does, but keeping deny.toml's own
# [advisories] table (its ignore list, each entry with its reason): the snapshot's
# path is added to that table instead of a second one.
set -euo pipefail
cd "$(dirname "$0")/.."
db_src=${ADVISORY_DB:-../shared/advisory-db}
[ -d "$db_src/crates" ] || { echo "error: no advisory snapshot at $db_src" >&2; exit 2; }
command -v cargo-deny >/dev/null || cargo install --locked cargo-deny
root=$(mktemp -d)
config=$(mktemp --suffix=.toml -p .)
trap 'rm -rf "$root" "$config"' EXIT
# cargo-deny looks for the default database under <db-path>/advisory-db-<hash of its
# URL>, as a git repository.
db="$root/advisory-db-3157b0e258782691"
cp -r "$db_src" "$db"
(cd "$db" && git init -q && git add -A &&
  git -c user.email=snapshot@localhost -c user.name=snapshot commit -qm "advisory-db snapshot")
cargo fetch --quiet
grep -q '^\[advisories\]$' deny.toml || { echo "error: deny.toml has no [advisories] table" >&2; exit 2; }
sed "s|^\[advisories\]\$|[advisories]\ndb-path = \"$root\"|" deny.toml > "$config"
cargo deny --offline --workspace --config "$config" check advisories "$@"
