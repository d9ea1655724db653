"""Rendering many labels in a loop keeps the process's resident memory flat:
the RSS over the last tenth of the run stays within 10 % of the first tenth.

The count is WAYBILL_PY_MEMORY_LABELS (50,000 by default, the issue's figure;
scripts/test-python.sh sets it for CI, see there)."""

from __future__ import annotations

import gc
import os
import time

import waybill_redact as wr

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def test_rss_stays_flat_over_many_labels(records: list[dict]) -> None:
    total = int(os.environ.get("WAYBILL_PY_MEMORY_LABELS", "50000"))
    tenth = max(total // 10, 1)
    ring = wr.Ring.generate()
    sample = [wr.Record(r) for r in records[:50]]
    tokens = [ring.seal(r) for r in sample]
    first: list[int] = []
    last: list[int] = []
    started = time.monotonic()
    for i in range(total):
        k = i % len(sample)
        png = wr.render(sample[k], tokens[k])
        assert png[:4] == b"\x89PNG"
        if i % 100 == 99:
            gc.collect()
            if i < tenth:
                first.append(rss())
            elif i >= total - tenth:
                last.append(rss())
    elapsed = time.monotonic() - started
    first_mb, last_mb = max(first) / 2**20, max(last) / 2**20
    print(f"{total} labels in {elapsed:.1f} s; RSS first tenth max {first_mb:.1f} MiB, last tenth max {last_mb:.1f} MiB")
    assert max(last) <= max(first) * 1.10, (first_mb, last_mb)
