#!/usr/bin/env bash
# Load benchmark of the resolver service on this machine, 127.0.0.1 only,
# bounded in time. Loads POST /v1/resolve with oha (a Rust load generator,
# `cargo install --locked oha`) and reports req/s, p50 and p99 for: no store
# (memory), SQLite, SQLite with device-bound grants without and with a witness,
# PostgreSQL with one instance, with device-bound grants without and with a
# witness, and with two instances. The witness is `waybill-resolver witness` on
# 127.0.0.1 (plain HTTP, on the same cores); the resolver posts it a checkpoint
# every 1,000 records. After the table, each witnessed run's throughput is given
# as a ratio of the same store's run without one. After each run it checks that the audit rows
# equal the number of 200s (oha waits for the requests in flight at the deadline,
# so none is abandoned uncounted). It also reports the CPU time the service (and
# PostgreSQL) spent per request, a figure that holds better than req/s when other
# work shares the machine. oha repeats one body, and a device-signed request
# repeated is a replay, so the device-bound row is loaded by the `load_signed`
# example instead: it signs every request up front with its own nonce.
#
#   scripts/bench-resolver.sh                 # 15 s per run, 64 connections
#   DURATION=20s CONNECTIONS=64 scripts/bench-resolver.sh
#   NO_DISK_WAIT=1 scripts/bench-resolver.sh  # the same without waiting for the disk
#
# Every commit that answers a 200 waits for the disk (fsync), so on a VM whose
# flushes take milliseconds that wait bounds both stores. NO_DISK_WAIT=1 puts the
# SQLite file on /dev/shm and turns PostgreSQL's fsync off for the throwaway
# cluster, to show what the service itself can do; those runs are not durable.
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
work=$(mktemp -d "$([ -n "${NO_DISK_WAIT:-}" ] && echo /dev/shm || echo /tmp)/bench-resolver.XXXXXX")
if [ -n "${NO_DISK_WAIT:-}" ]; then
    # The throwaway cluster's command line sets fsync: restart it with fsync off.
    pg_port=${WAYBILL_TEST_POSTGRES_URL##*:}; pg_port=${pg_port%%/*}
    pg_dir=$(dirname "$PGDATA_TEST")
    # shellcheck disable=SC2086 # PG_RUN_AS is a command prefix, or empty
    $PG_RUN_AS "$PG_CTL_TEST" -D "$PGDATA_TEST" -l "$pg_dir/log" -w restart -o \
        "-h 127.0.0.1 -p $pg_port -k $pg_dir -c max_connections=200 -c fsync=off" >/dev/null
fi
pids=()
cpu_before=0
witness_pid=
cleanup() {
    for p in "${pids[@]}" $witness_pid; do kill "$p" 2>/dev/null || true; done
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

public_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["public"])' "$1"; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() { # store instance port [config]
    "$bin" serve --ring "$work/ring.json" --trust "$trust" --store "$1" --instance "$2" \
        --listen "127.0.0.1:$3" --admin-listen "127.0.0.1:$(port)" \
        --audit-key "$work/audit-key.json" --config "${4:-$work/resolver.toml}" \
        2>>"$work/service.log" &
    pids+=($!)
    # /readyz is on the admin listener (each instance its own port); the public
    # listener answers /healthz once it serves.
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$3/healthz" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "service on port $3 did not start" >&2; cat "$work/service.log" >&2; exit 1
}

stop_all() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
cpu_before=0
}

signed() { # port out.json: device-signed requests, each with its own nonce
    target/release/examples/load_signed "http://127.0.0.1:$1" "$work" "${DURATION%s}" "$CONNECTIONS" > "$2"
}

load() { # out.json port connections
    oha -z "$DURATION" -w -c "$3" -m POST -H 'content-type: application/json' \
        -D "$work/body.json" --no-tui --output-format json "http://127.0.0.1:$2/v1/resolve" > "$1"
}

# CPU time (clock ticks) of the services started, and of the PostgreSQL cluster
# (the postmaster, its exited children, its live backends): "service cluster".
cpu_ticks() {
    local pg="" svc
    [ -f "${PGDATA_TEST:-}/postmaster.pid" ] && pg=$(head -1 "$PGDATA_TEST/postmaster.pid")
    svc=$(for p in "${pids[@]}"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done |
        awk '{s += $1} END {print s + 0}')
    if [ -n "$pg" ]; then
        echo "$svc $({
            awk '{print $14 + $15 + $16 + $17}' "/proc/$pg/stat"
            for c in $(pgrep -P "$pg"); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done
        } | awk '{s += $1} END {print s + 0}')"
    else
        echo "$svc 0"
    fi
}
mark() { cpu_before=$(cpu_ticks); }
cpu_used() { # service-ticks,cluster-ticks over the run
    local now
    now=$(cpu_ticks)
    echo "$(( ${now% *} - ${cpu_before% *} )),$(( ${now#* } - ${cpu_before#* } ))"
}

summary() { # name rows cpu-ticks files...
    python3 - "$(getconf CLK_TCK)" "$@" <<'PY'
import json, sys
hz, name, rows, ticks, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
svc, cluster = (int(t) for t in ticks.split(","))
runs = [json.load(open(f)) for f in files]
rps = sum(r["summary"]["requestsPerSec"] for r in runs)
codes = [r.get("statusCodeDistribution", {}) for r in runs]
ok = sum(int(c.get("200", 0)) for c in codes)
other = sum(v for c in codes for k, v in c.items() if k != "200")
p50 = max(r["latencyPercentiles"]["p50"] for r in runs) * 1000
p99 = max(r["latencyPercentiles"]["p99"] for r in runs) * 1000
per = lambda t: t / hz * 1e6 / max(ok + other, 1)
cpu = f"{per(svc + cluster):.0f}" + (f" ({per(svc):.0f} + {per(cluster):.0f})" if rows != "-" and "PostgreSQL" in name else "")
check = "n/a" if rows == "-" else ("yes" if int(rows) == ok else f"NO ({rows} rows)")
print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {cpu} | {ok} | {other} | {check} |")
PY
}

# The witness, for the whole run: it cosigns the instances `wsq` and `wpg`.
witness_port=$(port)
"$bin" witness --key "$work/witness.json" --store "$work/witness-store" \
    --log "waybill-redact.audit/wsq=$(public_of "$work/audit-key.json")" \
    --log "waybill-redact.audit/wpg=$(public_of "$work/audit-key.json")" \
    --listen "127.0.0.1:$witness_port" 2>>"$work/witness.log" &
witness_pid=$!
cp "$work/resolver.toml" "$work/witnessed.toml"
cat >> "$work/witnessed.toml" <<TOML
[[witness]]
url = "http://127.0.0.1:$witness_port"
key = "$(public_of "$work/witness.json")"
TOML

# Requests per second of a run with a witness over the same store's run without.
ratio() { # name with.json without.json
    python3 - "$@" <<'PY'
import json, sys
name, w, wo = sys.argv[1], *(json.load(open(f))["summary"]["requestsPerSec"] for f in sys.argv[2:])
print(f"- {name}: with a witness {w:,.0f} req/s, without {wo:,.0f} req/s: {w / wo:.3f}")
PY
}
cosigned() { # rows-query url-or-file: the largest tree size a witness cosigned
    case "$1" in
        sqlite:*) python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COALESCE(MAX(size),0) FROM audit_cosignatures').fetchone()[0])" "${1#sqlite:}" ;;
        *) psql -qtA "$1" -c "SELECT COALESCE(MAX(size), 0) FROM audit_cosignatures" ;;
    esac
}

pg_db() { # name -> url
    psql -q "$WAYBILL_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    echo "${WAYBILL_TEST_POSTGRES_URL%/*}/$1"
}
pg_rows() { psql -qtA "$1" -c "SELECT count(*) FROM audit WHERE outcome = 'allowed'"; }
sqlite_rows() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM audit WHERE outcome='allowed'\").fetchone()[0])" "$1"; }

echo "$(nproc) cores, $DURATION per run, $CONNECTIONS connections, oha $(oha --version | awk '{print $2}')"
echo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); disk wait: $([ -n "${NO_DISK_WAIT:-}" ] && echo "off (not durable)" || echo on)"
echo "one 16 kB synchronous write here now: $(dd if=/dev/zero of="$work/dsync" bs=16k count=100 oflag=dsync 2>&1 \
    | awk '/copied/ {printf "%.2f ms", $(NF-3) * 10}'; rm -f "$work/dsync")"
echo
echo "| configuration | req/s | p50 ms | p99 ms | CPU µs/req | 200s | other | audit rows = 200s |"
echo "|---|---|---|---|---|---|---|---|"

p=$(port); start memory bench "$p"; mark; load "$work/mem.json" "$p" "$CONNECTIONS"; cpu=$(cpu_used); stop_all
summary "no store (memory)" - "$cpu" "$work/mem.json"

p=$(port); start "sqlite:$work/bench.db" bench "$p"; mark; load "$work/sqlite.json" "$p" "$CONNECTIONS"; cpu=$(cpu_used); stop_all
summary "SQLite" "$(sqlite_rows "$work/bench.db")" "$cpu" "$work/sqlite.json"

p=$(port); start "sqlite:$work/bound.db" bench "$p"; mark
signed "$p" "$work/bound.json.out"; cpu=$(cpu_used); stop_all
summary "SQLite, device-bound" "$(sqlite_rows "$work/bound.db")" "$cpu" "$work/bound.json.out"

p=$(port); start "sqlite:$work/witnessed.db" wsq "$p" "$work/witnessed.toml"; mark
signed "$p" "$work/bound-w.json.out"; cpu=$(cpu_used); stop_all
summary "SQLite, device-bound, with a witness" "$(sqlite_rows "$work/witnessed.db")" "$cpu" "$work/bound-w.json.out"
sqlite_cosigned=$(cosigned "sqlite:$work/witnessed.db")

url=$(pg_db bench_one)
p=$(port); start "$url" one "$p"; mark; load "$work/pg1.json" "$p" "$CONNECTIONS"; cpu=$(cpu_used); stop_all
summary "PostgreSQL, 1 instance" "$(pg_rows "$url")" "$cpu" "$work/pg1.json"

url=$(pg_db bench_bound)
p=$(port); start "$url" bound "$p"; mark
signed "$p" "$work/pg-bound.json.out"; cpu=$(cpu_used); stop_all
summary "PostgreSQL, 1 instance, device-bound" "$(pg_rows "$url")" "$cpu" "$work/pg-bound.json.out"

url=$(pg_db bench_witnessed)
p=$(port); start "$url" wpg "$p" "$work/witnessed.toml"; mark
signed "$p" "$work/pg-bound-w.json.out"; cpu=$(cpu_used); stop_all
summary "PostgreSQL, 1 instance, device-bound, with a witness" "$(pg_rows "$url")" "$cpu" "$work/pg-bound-w.json.out"
pg_cosigned=$(cosigned "$url")

url=$(pg_db bench_two)
p1=$(port); start "$url" one "$p1"; p2=$(port); start "$url" two "$p2"
half=$((CONNECTIONS / 2))
mark
load "$work/pg2a.json" "$p1" "$half" & a=$!
load "$work/pg2b.json" "$p2" "$half" & b=$!
wait $a $b; cpu=$(cpu_used); stop_all
summary "PostgreSQL, 2 instances" "$(pg_rows "$url")" "$cpu" "$work/pg2a.json" "$work/pg2b.json"
kill "$witness_pid" 2>/dev/null || true
echo
echo "Witness (throughput with one over without, goal within 5 %):"
ratio "SQLite, device-bound" "$work/bound-w.json.out" "$work/bound.json.out"
ratio "PostgreSQL, 1 instance, device-bound" "$work/pg-bound-w.json.out" "$work/pg-bound.json.out"
echo "- cosigned tree size at the end: SQLite $sqlite_cosigned, PostgreSQL $pg_cosigned"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU µs/req: CPU time of the service process(es), plus the PostgreSQL cluster's for"
echo "PostgreSQL runs (service + cluster), over the run, per answered request (oha's own"
echo "CPU not included)."
