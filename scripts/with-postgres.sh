#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on 127.0.0.1 and a free
# port, and exports its URL as WAYBILL_TEST_POSTGRES_URL (plus PGDATA_TEST,
# PG_CTL_TEST and PG_RUN_AS for tests that stop and restart it).
#
#   scripts/with-postgres.sh cargo test -p waybill-redact-service
#
# With --standby, the cluster is a primary with a synchronous standby
# (streaming replication from pg_basebackup, synchronous_standby_names) on a
# second port, for the failover test: WAYBILL_TEST_PG_STANDBY_URL,
# WAYBILL_TEST_PG_FAILOVER_URL (both hosts, target_session_attrs=read-write)
# and PGDATA_STANDBY_TEST are exported too.
#
#   scripts/with-postgres.sh --standby cargo test --workspace --all-features --test failover
#
# Installs Debian's postgresql when it is missing. PostgreSQL refuses to run as
# root, so as root the cluster runs as the unprivileged user `waybill-pg`
# (created when missing); otherwise as the calling user. The cluster is stopped
# and its folder removed on exit.
set -euo pipefail

standby=false
if [ "${1:-}" = --standby ]; then
    standby=true
    shift
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "with-postgres: installing postgresql from Debian" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bindir=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")

run_as=()
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
    user=waybill-pg
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    run_as=(runuser -u "$user" --)
fi

dir=$(mktemp -d /tmp/waybill-pg.XXXXXX)
chown "$user" "$dir"
chmod 700 "$dir"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)

cleanup() {
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    if $standby; then
        "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/standby" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
# The standby's name is given on the primary's command line, not in its files,
# so that the standby (a copy of those files) does not wait for a standby of
# its own once promoted.
sync=()
$standby && sync=(-c synchronous_standby_names=standby1)
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
    "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on ${sync[*]}" start >/dev/null

if $standby; then
    port2=$(free_port)
    "${run_as[@]}" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$dir/standby" -X stream
    "${run_as[@]}" sh -c "echo \"primary_conninfo = 'host=127.0.0.1 port=$port user=postgres application_name=standby1'\" >>'$dir/standby/postgresql.auto.conf' && touch '$dir/standby/standby.signal'"
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -o \
        "-h 127.0.0.1 -p $port2 -k $dir -c max_connections=200 -c fsync=on" start >/dev/null
    for _ in $(seq 150); do
        state=$("$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atc \
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'" || true)
        [ "$state" = sync ] && break
        sleep 0.2
    done
    [ "$state" = sync ] || { echo "with-postgres: the standby is not synchronous ($state)" >&2; exit 1; }
    export WAYBILL_TEST_PG_STANDBY_URL="postgres://postgres@127.0.0.1:$port2/postgres"
    export WAYBILL_TEST_PG_FAILOVER_URL="postgres://postgres@127.0.0.1:$port,127.0.0.1:$port2/postgres?target_session_attrs=read-write"
    export PGDATA_STANDBY_TEST="$dir/standby"
    echo "with-postgres: synchronous standby on 127.0.0.1:$port2" >&2
fi

export WAYBILL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
export PGDATA_TEST="$dir/data" PG_CTL_TEST="$bindir/pg_ctl" PG_RUN_AS="${run_as[*]}"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
