#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on 127.0.0.1 and a free
# port, and exports its URL as WAYBILL_TEST_POSTGRES_URL (plus PGDATA_TEST,
# PG_CTL_TEST and PG_RUN_AS for tests that stop and restart it).
#
#   scripts/with-postgres.sh cargo test -p waybill-redact-service
#
# Installs Debian's postgresql when it is missing. PostgreSQL refuses to run as
# root, so as root the cluster runs as the unprivileged user `waybill-pg`
# (created when missing); otherwise as the calling user. The cluster is stopped
# and its folder removed on exit.
set -euo pipefail

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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cleanup() {
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
    "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" start >/dev/null

export WAYBILL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
export PGDATA_TEST="$dir/data" PG_CTL_TEST="$bindir/pg_ctl" PG_RUN_AS="${run_as[*]}"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
