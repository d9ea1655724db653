#!/usr/bin/env bash
# Load benchmark of the resolver service on this machine, 127.0.0.1 only,
# bounded in time. Loads POST /v1/resolve with oha (a Rust load generator,
# `cargo install --locked oha`) and reports req/s, p50 and p99 for: no store
# (memory), SQLite, SQLite with device-bound grants, PostgreSQL with one
# instance, and with two instances. After each run it checks that the audit rows
# equal the number of 200s. oha repeats one body, and a device-signed request
# repeated is a replay, so the device-bound row is loaded by the `load_signed`
# example instead: it signs every request up front with its own nonce.
#
#   scripts/bench-resolver.sh                 # 15 s per run, 64 connections
#   DURATION=20s CONNECTIONS=64 scripts/bench-resolver.sh
#
# PostgreSQL runs need WAYBILL_TEST_POSTGRES_URL: the script re-runs itself
# under scripts/with-postgres.sh when it is not set.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}

if [ -z "${WAYBILL_TEST_POSTGRES_URL:-}" ]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
command -v oha >/dev/null || cargo install --locked oha
cargo build --release -q -p waybill-redact-service --bin waybill-resolver --example bench_fixture --example load_signed
bin=target/release/waybill-resolver
work=$(mktemp -d /tmp/bench-resolver.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trust=$(target/release/examples/bench_fixture "$work")
cat > "$work/resolver.toml" <<TOML
checkpoint_every = 1000
allow_bearer_grants = true
[rate]
burst = 100000000
per_minute = 2000000000
TOML

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() { # store instance port
    "$bin" serve --ring "$work/ring.json" --trust "$trust" --store "$1" --instance "$2" \
        --listen "127.0.0.1:$3" --audit-key "$work/audit-key.json" --config "$work/resolver.toml" \
        2>>"$work/service.log" &
    pids+=($!)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$3/readyz" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "service on port $3 did not start" >&2; cat "$work/service.log" >&2; exit 1
}

stop_all() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}

load() { # out.json port connections
    oha -z "$DURATION" -c "$3" -m POST -H 'content-type: application/json' \
        -D "$work/body.json" --no-tui --output-format json "http://127.0.0.1:$2/v1/resolve" > "$1"
}

summary() { # name rows files...
    python3 - "$@" <<'PY'
import json, sys
name, rows, files = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = [json.load(open(f)) for f in files]
rps = sum(r["summary"]["requestsPerSec"] for r in runs)
ok = sum(int(r.get("statusCodeDistribution", {}).get("200", 0)) for r in runs)
other = sum(v for r in runs for k, v in r.get("statusCodeDistribution", {}).items() if k != "200")
p50 = max(r["latencyPercentiles"]["p50"] for r in runs) * 1000
p99 = max(r["latencyPercentiles"]["p99"] for r in runs) * 1000
# oha abandons the requests in flight when its time is up: their records exist
# but their 200s were never counted, so rows may exceed the 200s by at most the
# number of connections, never fall short.
check = "n/a" if rows == "-" else (f"ok ({rows} rows, +{int(rows) - ok} in flight at the cut)" if int(rows) >= ok else f"SHORT ({rows} rows)")
print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {ok} | {other} | {check} |")
PY
}

pg_db() { # name -> url
    psql -q "$WAYBILL_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    echo "${WAYBILL_TEST_POSTGRES_URL%/*}/$1"
}
pg_rows() { psql -qtA "$1" -c "SELECT count(*) FROM audit WHERE outcome = 'allowed'"; }
sqlite_rows() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM audit WHERE outcome='allowed'\").fetchone()[0])" "$1"; }

echo "$(nproc) cores, $DURATION per run, $CONNECTIONS connections, oha $(oha --version | awk '{print $2}')"
echo
echo "| configuration | req/s | p50 ms | p99 ms | 200s | other | audit rows ≥ 200s |"
echo "|---|---|---|---|---|---|---|"

p=$(port); start memory bench "$p"; load "$work/mem.json" "$p" "$CONNECTIONS"; stop_all
summary "no store (memory)" - "$work/mem.json"

p=$(port); start "sqlite:$work/bench.db" bench "$p"; load "$work/sqlite.json" "$p" "$CONNECTIONS"; stop_all
summary "SQLite" "$(sqlite_rows "$work/bench.db")" "$work/sqlite.json"

p=$(port); start "sqlite:$work/bound.db" bench "$p"
target/release/examples/load_signed "http://127.0.0.1:$p" "$work" "${DURATION%s}" "$CONNECTIONS" > "$work/bound.json.out"
stop_all
summary "SQLite, device-bound" "$(sqlite_rows "$work/bound.db")" "$work/bound.json.out"

url=$(pg_db bench_one)
p=$(port); start "$url" one "$p"; load "$work/pg1.json" "$p" "$CONNECTIONS"; stop_all
summary "PostgreSQL, 1 instance" "$(pg_rows "$url")" "$work/pg1.json"

url=$(pg_db bench_two)
p1=$(port); start "$url" one "$p1"; p2=$(port); start "$url" two "$p2"
half=$((CONNECTIONS / 2))
load "$work/pg2a.json" "$p1" "$half" & a=$!
load "$work/pg2b.json" "$p2" "$half" & b=$!
wait $a $b; stop_all
summary "PostgreSQL, 2 instances" "$(pg_rows "$url")" "$work/pg2a.json" "$work/pg2b.json"
