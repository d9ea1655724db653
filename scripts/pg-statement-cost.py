#!/usr/bin/env python3
"""PostgreSQL's own CPU time per batch for the resolver service's statements.

Runs the claim statement and the audit COPY exactly as
crates/service/src/postgres.rs prepares them (read from that file), plus the
`INSERT … SELECT unnest(…)` of the same rows that the service used before, and a
bare `SELECT 1`, at several batch sizes, and reports the server backend's CPU time (user + system, from
/proc/PID/stat, so the cluster must run on this machine) per batch and per row.
That is the part of a resolve that no change to the service can remove, so it
bounds what the service can reach on a given number of cores.

    pip install 'psycopg[binary]'
    scripts/with-postgres.sh python3 scripts/pg-statement-cost.py [SECONDS]

Loopback only (the throwaway cluster's URL in WAYBILL_TEST_POSTGRES_URL).
"""

import os
import re
import sys
import time

import psycopg

SOURCE = os.path.join(os.path.dirname(__file__), "..", "crates", "service", "src", "postgres.rs")
HZ = os.sysconf("SC_CLK_TCK")
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
BATCHES = (1, 12, 48)
HASH = "ab" * 32
# The audit insert the service used before it switched to COPY.
INSERT_UNNEST = """
INSERT INTO audit (instance, seq, time, tracking_number, courier, grant_id, purpose, outcome,
    reason, scope, prev, hash)
SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])"""


def constant(source, name):
    return re.search(r"const " + name + r': &str = "(.*?)";', source, re.S).group(1)


def named(sql, count):
    """$1..$N as psycopg's named placeholders (a parameter may repeat)."""
    for i in range(count, 0, -1):
        sql = sql.replace(f"${i}", f"%(p{i})s")
    return sql


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    source = open(SOURCE).read()
    migrations = re.findall(r'r"(.*?)",', re.search(r"const MIGRATIONS.*?\];", source, re.S).group(0), re.S)
    claim = named(constant(source, "CLAIM_SQL"), 7)
    insert = named(INSERT_UNNEST, 12)
    copy_audit = constant(source, "COPY_AUDIT")
    url = os.environ["WAYBILL_TEST_POSTGRES_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in migrations:
            conn.execute(sql)
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        seq = [0]

        def records(n):
            out = []
            for _ in range(n):
                seq[0] += 1
                out.append(("bench", seq[0], "2026-12-04T16:50:00.123Z", "SF1234567890123",
                            "courier-1", "g0123456789abcdef0123456789abcdef", "delivery",
                            "allowed", None, "755021", HASH, HASH))
            return out

        def run_claim(n):
            now = int(time.time() * 1000)
            conn.execute(claim, dict(p1=["courier-1"] * n, p2=["g0123456789abcdef"] * n,
                                     p3=[10**9] * n, p4=[10**11] * n, p5=now, p6=1, p7=10**8),
                         prepare=True, binary=True)

        def run_insert(n):
            columns = [list(c) for c in zip(*records(n))]
            params = {f"p{i + 1}": c for i, c in enumerate(columns)}
            conn.execute(insert, params, prepare=True, binary=True)

        def run_copy(n):
            rows = records(n)
            # As the service does: the COPY is a transaction of its own.
            with conn.cursor().copy(copy_audit) as copy:
                copy.set_types(["text", "int8"] + ["text"] * 10)
                for row in rows:
                    copy.write_row(row)

        def run_select(_n):
            conn.execute("SELECT 1", prepare=True)

        print(f"| statement | synchronous_commit | batch | server CPU µs/batch | µs/row |")
        print("|---|---|---|---|---|")
        for name, run, modes in [
            ("SELECT 1", run_select, ("off",)),
            ("claim (CLAIM_SQL)", run_claim, ("off",)),
            ("audit INSERT … unnest (before)", run_insert, ("off", "on")),
            ("audit binary COPY (COPY_AUDIT)", run_copy, ("off", "on")),
        ]:
            for mode in modes:
                conn.execute(f"SET synchronous_commit = {mode}")
                for n in BATCHES if run is not run_select else (1,):
                    for _ in range(50):
                        run(n)
                    calls, start_ticks, deadline = 0, cpu_ticks(pid), time.time() + SECONDS
                    while time.time() < deadline:
                        run(n)
                        calls += 1
                    per_batch = (cpu_ticks(pid) - start_ticks) / HZ * 1e6 / calls
                    print(f"| {name} | {mode} | {n} | {per_batch:.1f} | {per_batch / n:.2f} |")


if __name__ == "__main__":
    main()
