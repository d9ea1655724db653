#!/usr/bin/env python3
"""Writes N waybills as JSON Lines for batch benchmarks: the shared fixtures
cycled, each with a unique tracking number.

    scripts/gen_orders.py 100000 > /tmp/orders-100k.jsonl
"""
import json
import pathlib
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
root = pathlib.Path(__file__).resolve().parent.parent
fixtures = json.loads((root / "fixtures" / "waybills.json").read_text(encoding="utf-8"))
out = sys.stdout
for i in range(n):
    record = dict(fixtures[i % len(fixtures)])
    record["tracking_number"] = "BT%013d" % i
    out.write(json.dumps(record, ensure_ascii=False))
    out.write("\n")
