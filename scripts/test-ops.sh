#!/usr/bin/env bash
# The resolver service's operations checks that are not cargo tests:
#   - docs/alerts.yml: `promtool check rules` accepts it;
#   - deploy/waybill-resolver.service: `systemd-analyze verify` passes and
#     `systemd-analyze security --offline=true` rates it OK or better (the
#     exposure score is printed).
# Installs what it needs from Debian, idempotently. Bounded: a few seconds past
# the build.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v systemd-analyze >/dev/null; then
  echo "test-ops: installing systemd (for systemd-analyze)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq systemd >/dev/null
fi

if ! command -v promtool >/dev/null; then
  echo "test-ops: installing prometheus (for promtool)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
fi
timeout 60 promtool check rules docs/alerts.yml
echo "test-ops: promtool check rules docs/alerts.yml: passed"

# The same features as the test build, so its binaries are reused.
cargo build -q --workspace --all-features --bins
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/waybill-resolver"

unit=deploy/waybill-resolver.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify checks that ExecStart's program exists: point it at the one just built.
sed "s|/usr/local/bin/waybill-resolver|$bin|" "$unit" >"$tmp/waybill-resolver.service"
(cd "$tmp" && timeout 60 systemd-analyze verify waybill-resolver.service)
echo "test-ops: systemd-analyze verify $unit: passed"

report=$(timeout 60 systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
overall=$(printf '%s\n' "$report" | grep 'Overall exposure level')
score=$(printf '%s\n' "$overall" | sed -E 's/.*: ([0-9.]+) ([A-Z]+).*/\1/')
rating=$(printf '%s\n' "$overall" | sed -E 's/.*: ([0-9.]+) ([A-Z]+).*/\2/')
echo "test-ops: systemd-analyze security $unit: exposure $score $rating"
case "$rating" in
  SAFE|OK) ;;
  *) echo "test-ops: FAILED: the unit must rate OK or better" >&2; exit 1 ;;
esac

echo "test-ops: all checks passed"
