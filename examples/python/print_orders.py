#!/usr/bin/env python3
"""A seller's order export (CSV) to one PDF of labels, ready to print, reporting
the rows that could not become a label.

    python examples/python/print_orders.py orders.csv labels.pdf \\
        --directory directory.json --sealer seller.json --carrier WI1:…

The carrier gives the seller its zone directory and its public key (`WI1:…`);
the seller made `seller.json` once with `waybill_redact.SealerKey.generate().save(...)`
(or `waybill-redact sealer new`) and had the carrier register its public key.
A bad row is reported with its row number and the field at fault, never the
field's value, and the other rows still print. Exit status 1 when any row failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import waybill_redact as wr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("orders", help="the order export, CSV with a header row")
    parser.add_argument("pdf", help="where to write the labels, one page each")
    parser.add_argument("--directory", required=True, help="the carrier's zone directory")
    parser.add_argument("--sealer", required=True, help="the seller's key file")
    parser.add_argument("--carrier", required=True, help="the carrier's public key, WI1:…")
    parser.add_argument("--size", default="100x150", help="label size in mm (default 100x150)")
    args = parser.parse_args()

    sealer = wr.Sealer(
        wr.Directory.load(args.directory, carrier=args.carrier),
        wr.SealerKey.load(args.sealer),
    )
    bad: list[wr.WaybillError] = []

    def labels() -> Iterator[wr.Label]:
        # Rows are read, sealed and rendered on Rust threads, in order.
        for _, result in wr.render_batch(wr.read_batch(args.orders), sealer, size=args.size, format="label"):
            if isinstance(result, wr.Label):
                yield result
            elif isinstance(result, wr.WaybillError):
                bad.append(result)

    pages = wr.write_pdf(args.pdf, labels())
    print(f"{args.pdf}: {pages} label(s)")
    for e in bad:
        where = f"row {e.position}" if e.position else "a row"
        field = f" (field {e.field})" if e.field else ""
        print(f"  {where}{field}: {e}", file=sys.stderr)
    if bad:
        print(f"{len(bad)} row(s) could not be printed", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
