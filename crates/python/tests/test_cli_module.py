"""`python -m waybill_redact render`: a CSV of orders into one PDF, bad rows
reported with their position, as a seller without the Rust toolchain runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import waybill_redact as wr
from conftest import FIXTURES, Carrier, need


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "waybill_redact", *args], capture_output=True, text=True, timeout=300)


def test_render_a_csv_to_one_pdf_as_a_seller(carrier: Carrier, tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    r = run(
        "render", "--input", str(FIXTURES / "orders.csv"), "--out", str(out),
        "--directory", str(carrier.path("directory.json")), "--sealer", str(carrier.path("seller.json")),
        "--carrier", carrier.carrier_public,
    )
    items = list(wr.read_batch(FIXTURES / "orders.csv"))
    good = sum(isinstance(i, wr.Record) for i in items)
    bad = [i.position for i in items if isinstance(i, wr.InputError)]
    assert f"rendered {good} label(s), {len(bad)} failed" in r.stderr
    for position in bad:
        assert f"error: record {position}:" in r.stderr
    assert r.returncode == (1 if bad else 0)
    info = subprocess.run([need("pdfinfo"), str(out)], capture_output=True, text=True).stdout
    assert re.search(rf"^Pages:\s+{good}$", info, re.M), info


def test_zpl_with_a_ring_and_usage_errors(carrier: Carrier, tmp_path: Path) -> None:
    out = tmp_path / "labels.zpl"
    r = run("render", "--input", str(FIXTURES / "waybills.json"), "--out", str(out), "--ring", str(carrier.path("ring.json")))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().count(b"^XA") == len(list(wr.read_batch(FIXTURES / "waybills.json")))
    r = run("render", "--input", str(FIXTURES / "waybills.json"), "--out", str(out))
    assert r.returncode != 0 and "--ring" in r.stderr
    r = run("render", "--input", str(tmp_path / "none.csv"), "--out", str(out), "--ring", str(carrier.path("ring.json")))
    assert r.returncode == 1 and "none.csv" in r.stderr


def test_the_print_orders_example(carrier: Carrier, tmp_path: Path) -> None:
    from conftest import ROOT

    out = tmp_path / "labels.pdf"
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/print_orders.py"), str(FIXTURES / "orders.csv"), str(out),
         "--directory", str(carrier.path("directory.json")), "--sealer", str(carrier.path("seller.json")),
         "--carrier", carrier.carrier_public],
        capture_output=True, text=True, timeout=300,
    )
    items = list(wr.read_batch(FIXTURES / "orders.csv"))
    good = sum(isinstance(i, wr.Record) for i in items)
    bad = [i for i in items if isinstance(i, wr.InputError)]
    assert f"{good} label(s)" in r.stdout, r.stderr
    for e in bad:
        assert f"row {e.position}" in r.stderr
    assert r.returncode == (1 if bad else 0)
    info = subprocess.run([need("pdfinfo"), str(out)], capture_output=True, text=True).stdout
    assert re.search(rf"^Pages:\s+{good}$", info, re.M), info
