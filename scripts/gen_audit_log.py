#!/usr/bin/env python3
"""Writes a valid audit log of N records (docs/TOKEN.md, "Audit records"), hashed
from the page alone, for timing `resolve --audit` on long logs.

Usage: gen_audit_log.py N START_UNIX_TIME > audit.jsonl

Records are denied `bad_signature` attempts from 500 couriers, about 16 a second,
ending before START_UNIX_TIME plus N/16 seconds; none consumes quota.
"""
import hashlib
import json
import sys
import time


def field(value):
    if value is None:
        return b"\x00"
    data = value.encode()
    return b"\x01" + len(data).to_bytes(2, "big") + data


def main():
    n, start = int(sys.argv[1]), int(sys.argv[2])
    prev = "0" * 64
    out = sys.stdout
    for i in range(n):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i // 16))
        rec = {
            "seq": i + 1,
            "instance": "local",
            "time": when,
            "tracking_number": f"SF{i:013}",
            "courier": f"C-{100 + i % 500}",
            "grant": f"{i:032x}",
            "purpose": "delivery",
            "outcome": "denied",
            "reason": "bad_signature",
            "scope": None,
            "prev": prev,
        }
        hashed = b"waybill-redact audit v2\x00" + bytes.fromhex(prev) + rec["seq"].to_bytes(8, "big")
        for key in ("instance", "time", "tracking_number", "courier", "grant",
                    "purpose", "outcome", "reason", "scope"):
            hashed += field(rec[key])
        rec["hash"] = prev = hashlib.sha256(hashed).hexdigest()
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
