#!/usr/bin/env bash
# Batch benchmark: labels per second on 1 and 2 worker threads for 10,000
# records, and peak memory (max RSS) for 1,000 and 100,000 records.
# Usage: scripts/bench-batch.sh [FORMAT [OUTPUT_PARENT]]
#   FORMAT: png (default), png-gray, zpl, pdf
#   OUTPUT_PARENT: where labels are written (default: a temporary directory);
#   pass /dev/shm to measure without the disk (file creation on a VM disk can
#   cost more than rendering a label).
set -euo pipefail
cd "$(dirname "$0")/.."
format="${1:-png}"
parent="${2:-}"
cargo build --release --quiet --bin waybill-redact
bin=target/release/waybill-redact
work=$(mktemp -d ${parent:+-p "$parent"})
trap 'rm -rf "$work"' EXIT
$bin keys new --out "$work/ring.json" >/dev/null

run() { # records threads
  local n=$1 jobs=$2 input="$work/orders-$1.jsonl" out="$work/out-$1-$2"
  [ -f "$input" ] || python3 scripts/gen_orders.py "$n" > "$input"
  rm -rf "$out"
  # Let the disk settle: on a filesystem mounted with `discard`, deleting the
  # previous run's files issues TRIMs that slow the next run's file creation.
  sync; sleep 5
  /usr/bin/time -f "%e %M" -o "$work/time" \
    $bin render --input "$input" --ring "$work/ring.json" --out "$out" --format "$format" --jobs "$jobs" 2>/dev/null
  read -r secs kb < "$work/time"
  awk -v n="$n" -v j="$jobs" -v s="$secs" -v kb="$kb" 'BEGIN {
    printf "%7d records  %d thread(s)  %6.2f s  %7.0f labels/s  max RSS %6.1f MB\n", n, j, s, n / s, kb / 1024 }'
}

run 10000 1
run 10000 2
run 1000 2
run 100000 2
