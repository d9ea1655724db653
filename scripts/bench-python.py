#!/usr/bin/env python3
"""The Python binding's speed, reported (not asserted), in one run so that a busy
machine slows every side alike:

1. one label from Python, `waybill_redact.render(record, token)` (JSON record in,
   1-bit PNG out), against the Rust per-label time of exactly the same work
   (`cargo run --release -p waybill-redact-python --example label_time`);
2. `render_batch(..., jobs=2)` against `jobs=1` (sealing + masking + rendering +
   PNG on Rust threads, the GIL released);
3. a plain Pillow + qrcode + python-barcode label (the same fields, the same
   bundled font, 100x150 mm at 203 dpi, 1-bit PNG), which is what a Python user
   would otherwise write.

Run it in the virtualenv scripts/test-python.sh makes, after a release
`maturin develop`:

    target/py-venv/bin/pip install qrcode==8.2 python-barcode==0.16.1
    target/py-venv/bin/python scripts/bench-python.py [--labels 500] [--batch 2000]

Say the load average (`uptime`) with the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

import waybill_redact as wr

ROOT = pathlib.Path(__file__).resolve().parent.parent
FONT = ROOT / "crates/fonts/fonts/NotoSansCJKsc-Label.otf"


def per_label_us(fn, labels: int, chunk: int = 50) -> tuple[float, float]:
    """Median and best microseconds per call over chunks of `chunk` calls."""
    for _ in range(20):
        fn()
    times = []
    for _ in range(max(labels // chunk, 1)):
        start = time.perf_counter()
        for _ in range(chunk):
            fn()
        times.append((time.perf_counter() - start) * 1e6 / chunk)
    return statistics.median(times), min(times)


_FONTS: list = []


def pillow_label(record: dict, masked: dict, token: str) -> bytes:
    """A plain label: header, masked recipient and sender, QR of the token, Code 128
    of the tracking number, as Pillow, qrcode and python-barcode draw them."""
    import barcode
    import qrcode
    from barcode.writer import ImageWriter
    from PIL import Image, ImageDraw, ImageFont

    w, h = 799, 1199
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    if not _FONTS:  # loaded once, as a long-running Python service would
        _FONTS.extend([ImageFont.truetype(str(FONT), 40), ImageFont.truetype(str(FONT), 28)])
    big, small = _FONTS
    d.text((20, 20), record.get("carrier", "快递"), font=big, fill=0)
    code = barcode.get("code128", record["tracking_number"], writer=ImageWriter())
    bar = code.render({"module_height": 12.0, "module_width": 0.3, "dpi": 203, "write_text": True})
    img.paste(bar.convert("L").resize((min(bar.width, w - 40), 220)), (20, 90))
    y = 330
    r = masked["recipient"]
    for line in ("收 " + r["name"] + " " + r["phone"], r["address"]):
        d.text((20, y), line, font=big, fill=0)
        y += 60
    if masked.get("sender"):
        s = masked["sender"]
        d.text((20, y), "寄 " + s["name"] + " " + s["phone"], font=small, fill=0)
        y += 40
        d.text((20, y), s["address"], font=small, fill=0)
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=3, border=4)
    q.add_data(token)
    qr = q.make_image().get_image().convert("L")
    img.paste(qr, (w - qr.width - 20, h - qr.height - 20))
    out = io.BytesIO()
    img.convert("1").save(out, format="PNG", dpi=(203, 203))
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=500, help="labels per single-label measurement")
    parser.add_argument("--batch", type=int, default=2000, help="records per render_batch run")
    parser.add_argument("--runs", type=int, default=3, help="render_batch runs per jobs value")
    args = parser.parse_args()

    records = json.loads((ROOT / "fixtures/waybills.json").read_text())
    record = records[0]
    ring = wr.Ring.generate()
    token = ring.seal(record)
    text = json.dumps(record, ensure_ascii=False)
    print(f"load average: {os.getloadavg()}")

    with tempfile.TemporaryDirectory() as tmp:
        (pathlib.Path(tmp) / "record.json").write_text(text)
        (pathlib.Path(tmp) / "token.txt").write_text(token)
        subprocess.run(
            ["cargo", "build", "-q", "--release", "-p", "waybill-redact-python", "--example", "label_time"],
            cwd=ROOT, check=True,
        )
        rust_runs, py_runs = [], []
        for _ in range(3):  # interleaved, so that load hits both alike
            out = subprocess.run(
                [str(ROOT / "target/release/examples/label_time"), f"{tmp}/record.json", f"{tmp}/token.txt", str(args.labels)],
                capture_output=True, text=True, check=True,
            ).stdout
            rust_runs.append(float(out.split()[0].split("=")[1]))
            py_runs.append(per_label_us(lambda: wr.render(text, token), args.labels)[0])
    rust, py = statistics.median(rust_runs), statistics.median(py_runs)
    print(f"one label, Rust (from JSON text, mask, render, 1-bit PNG): {rust:8.0f} µs  runs {[round(x) for x in rust_runs]}")
    print(f"one label, Python wr.render(json_text, token):              {py:8.0f} µs  runs {[round(x) for x in py_runs]}")
    print(f"  ratio Python / Rust: {py / rust:.2f}")
    py_dict = per_label_us(lambda: wr.render(record, token), args.labels)[0]
    print(f"one label, Python wr.render(dict, token):                   {py_dict:8.0f} µs  (the dict read into JSON text included)")
    rec = wr.Record(record)
    py_rec = per_label_us(lambda: wr.render(rec, token), args.labels)[0]
    print(f"one label, Python wr.render(Record, token):                 {py_rec:8.0f} µs  (read once beforehand)")

    batch = [records[i % len(records)] for i in range(args.batch)]
    rates = {}
    for jobs in (1, 2):
        runs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            n = sum(1 for _, v in wr.render_batch(batch, ring, jobs=jobs) if isinstance(v, bytes))
            runs.append(n / (time.perf_counter() - start))
        rates[jobs] = statistics.median(runs)
        print(f"render_batch jobs={jobs}: {rates[jobs]:7.0f} labels/s  runs {[round(r) for r in runs]}")
    print(f"  speed-up jobs=2 / jobs=1: {rates[2] / rates[1]:.2f}")

    masked = wr.mask(record)
    try:
        pil_png = pillow_label(record, masked, token)
    except ImportError as e:
        print(f"Pillow + qrcode + python-barcode: not installed ({e.name}); pip install qrcode==8.2 python-barcode==0.16.1")
        return
    pil = per_label_us(lambda: pillow_label(record, wr.mask(record), token), max(args.labels // 5, 50), chunk=10)[0]
    print(f"one label, Pillow + qrcode + python-barcode:                {pil:8.0f} µs  ({len(pil_png)} bytes PNG)")
    print(f"  Pillow / waybill_redact: {pil / py_dict:.1f}x")


if __name__ == "__main__":
    main()
