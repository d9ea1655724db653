#!/usr/bin/env python3
"""Times `waybill-redact render --jobs 1` for one or more builds, in turn, so that
a busy machine slows them alike: 2,000 records from gen_orders.py, 1-bit PNG to
/dev/shm, RUNS runs per build per round. Prints, per round and build, the median
and best wall clock and the median CPU time (user + system, from wait4).

    scripts/time-render.py [--runs 10] [--rounds 3] BIN [BIN ...]

Say the load average (`uptime`) with the figures: other processes show up in
the wall clock, and on a shared core in the CPU time too.
"""
import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import tempfile
import time

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=10)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--records", type=int, default=2000)
parser.add_argument("bins", nargs="+")
args = parser.parse_args()

work = pathlib.Path(tempfile.mkdtemp(prefix="time-render-", dir="/dev/shm"))
try:
    orders = work / "orders.jsonl"
    with orders.open("w") as f:
        subprocess.run(["python3", root / "scripts/gen_orders.py", str(args.records)],
                       stdout=f, check=True)
    ring = work / "ring.json"
    subprocess.run([args.bins[0], "keys", "new", "--out", ring],
                   stdout=subprocess.DEVNULL, check=True)
    out = work / "out"
    for rnd in range(1, args.rounds + 1):
        for binary in args.bins:
            walls, cpus = [], []
            for _ in range(args.runs):
                shutil.rmtree(out, ignore_errors=True)
                start = time.perf_counter()
                child = subprocess.Popen(
                    [binary, "render", "--input", orders, "--ring", ring,
                     "--jobs", "1", "--out", out],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                walls.append(time.perf_counter() - start)
                cpus.append(usage.ru_utime + usage.ru_stime)
                if status != 0:
                    raise SystemExit(f"{binary} failed: status {status}")
            wall = statistics.median(walls)
            print(f"round {rnd}  {binary}: wall median {wall * 1000:.0f} ms, "
                  f"best {min(walls) * 1000:.0f} ms ({args.records / wall:,.0f} labels/s "
                  f"median, {args.records / min(walls):,.0f} best); CPU median "
                  f"{statistics.median(cpus) * 1000:.0f} ms")
finally:
    shutil.rmtree(work, ignore_errors=True)
