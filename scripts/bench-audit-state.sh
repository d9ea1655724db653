#!/usr/bin/env bash
# Times `resolve --audit LOG` on a long log (default 300,000 records, written by
# scripts/gen_audit_log.py from docs/TOKEN.md alone): the first run, with no
# LOG.head beside the log, verifies and replays it whole; the next runs find a
# matching LOG.head and read only the log's tail.
# Usage: scripts/bench-audit-state.sh [RECORDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300000}
bin=target/release/waybill-redact
[ -x "$bin" ] || cargo build --release -p waybill-redact-cli
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" keys new --out "$dir/ring.json" >/dev/null
trust=$("$bin" issuer new --out "$dir/issuer.json")
now=$(date -u +%s)
grant=$("$bin" grant --issuer "$dir/issuer.json" --courier C-10023 --zones 755021 \
  --hours 12 --not-before "$(date -u -d "@$((now - 7200))" +%FT%TZ)")
token=$("$bin" seal --ring "$dir/ring.json" --input fixtures/waybills.json | sed -n 1p)
python3 scripts/gen_audit_log.py "$n" $((now - n / 16 - 3600)) >"$dir/audit.jsonl"
run() {
  /usr/bin/time -f "%e s, %M KB max RSS" "$bin" resolve --ring "$dir/ring.json" \
    --trust "$trust" --grant "$grant" --purpose delivery --audit "$dir/audit.jsonl" \
    "$token" >/dev/null
}
echo "log: $n records, $(stat -c %s "$dir/audit.jsonl") bytes; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo -n "no LOG.head (verify and replay the log): "
run
for _ in 1 2 3; do
  echo -n "matching LOG.head (tail only): "
  run
done
[ -f "$dir/audit.jsonl.head" ] && echo "LOG.head: $(stat -c %s "$dir/audit.jsonl.head") bytes"
