"""``python -m waybill_redact``: render a batch of waybills to labels, for sellers
and carriers who have Python but not the Rust toolchain.

    python -m waybill_redact render --input orders.csv --out labels.pdf \\
        --directory directory.json --sealer seller.json --carrier WI1:…
    python -m waybill_redact render --input orders.jsonl --out labels.zpl --ring ring.json

The output format follows ``--out``'s extension: ``.pdf`` (one page per label) or
``.zpl`` (one stream), else a folder with one PNG per label. Bad rows are reported
on standard error with their position and field, never their values; the exit
status is 1 when any row failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Optional, Union

from . import (
    Directory,
    Label,
    Ring,
    Sealer,
    SealerKey,
    WaybillError,
    read_batch,
    render_batch,
    write_pdf,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m waybill_redact", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="render waybills to labels (PDF, ZPL or PNG files)")
    r.add_argument("--input", required=True, type=Path, help="orders as CSV, JSON or JSON Lines")
    r.add_argument("--out", required=True, type=Path, help="labels.pdf, labels.zpl, or a folder for PNGs")
    r.add_argument("--ring", type=Path, help="the carrier's key ring (suite 1)")
    r.add_argument("--directory", type=Path, help="the carrier's zone directory (sellers)")
    r.add_argument("--sealer", type=Path, help="the seller's key file (with --directory)")
    r.add_argument("--carrier", help="the carrier's issuer public key, WI1:… or a file (with --directory)")
    r.add_argument("--size", default="100x150", help="label size in millimetres (default 100x150)")
    r.add_argument("--dpi", type=int, default=203, help="printer resolution (default 203)")
    r.add_argument("--ttl-days", type=int, default=30, help="days until the tokens expire (default 30)")
    r.add_argument("--jobs", type=int, default=None, help="worker threads (default: one per core)")
    return parser


def _sealer(args: argparse.Namespace) -> Union[Ring, Sealer]:
    if args.ring and not args.directory:
        return Ring.load(args.ring)
    if args.directory and args.sealer and args.carrier and not args.ring:
        return Sealer(Directory.load(args.directory, carrier=args.carrier), SealerKey.load(args.sealer))
    raise SystemExit("error: give --ring, or --directory with --sealer and --carrier")


def render(args: argparse.Namespace) -> int:
    sealer = _sealer(args)
    suffix = args.out.suffix.lower()
    fmt: Literal["label", "zpl", "png"] = "label" if suffix == ".pdf" else "zpl" if suffix == ".zpl" else "png"
    failed = 0
    written = 0
    results = render_batch(
        read_batch(args.input), sealer, size=args.size, dpi=args.dpi, format=fmt,
        ttl_days=args.ttl_days, jobs=args.jobs,
    )

    def good() -> Iterator[Union[bytes, Label]]:
        nonlocal failed, written
        for index, result in results:
            if isinstance(result, WaybillError):
                failed += 1
                print(f"error: {result}", file=sys.stderr)
                continue
            written += 1
            yield result

    if suffix == ".pdf":
        write_pdf(args.out, (label for label in good() if isinstance(label, Label)))
    elif suffix == ".zpl":
        with open(args.out, "wb") as f:
            for zpl in good():
                assert isinstance(zpl, bytes)
                f.write(zpl)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        for n, png in enumerate(good(), 1):
            assert isinstance(png, bytes)
            (args.out / f"label-{n:06}.png").write_bytes(png)
    print(f"rendered {written} label(s), {failed} failed", file=sys.stderr)
    return 1 if failed or written == 0 else 0


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return render(args)
    except (WaybillError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
