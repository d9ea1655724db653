"""Labels rendered from Python are read by independent readers: zbarimg reads the
QR code (the token) and the Code 128 barcode (the tracking number) from the PNG;
labelize renders the ZPL and zbarimg reads that; pdftoppm rasterises the PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import waybill_redact as wr
from conftest import need


def zbar(path: Path, symbology: str) -> str:
    out = subprocess.run(
        [need("zbarimg"), "--raw", "-q", "-Sdisable", f"-S{symbology}.enable", str(path)],
        capture_output=True, timeout=120,
    )
    return out.stdout.decode().rstrip("\n")


@pytest.fixture(scope="module")
def sealed(records: list[dict]) -> tuple[dict, str]:
    record = records[0]
    return record, wr.Ring.generate().seal(record)


def test_png_codes_read_back_with_zbarimg(sealed: tuple[dict, str], tmp_path: Path) -> None:
    record, token = sealed
    for fmt in ("png", "png-gray"):
        png = wr.render(record, token, format=fmt)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        path = tmp_path / f"label-{fmt}.png"
        path.write_bytes(png)
        assert zbar(path, "qrcode") == token
        assert zbar(path, "code128") == record["tracking_number"]


def test_zpl_is_read_by_labelize(sealed: tuple[dict, str], tmp_path: Path) -> None:
    record, token = sealed
    zpl = wr.render(record, token, format="zpl")
    assert zpl.startswith(b"^XA") and zpl.rstrip().endswith(b"^XZ")
    src, png = tmp_path / "label.zpl", tmp_path / "label.png"
    src.write_bytes(zpl)
    out = subprocess.run(
        [need("labelize"), "convert", str(src), "-o", str(png), "--dpmm", "8",
         "--width", "100", "--height", "150"],
        capture_output=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr.decode()
    assert zbar(png, "qrcode") == token
    assert zbar(png, "code128") == record["tracking_number"]


def test_pdf_is_rasterised_by_pdftoppm(sealed: tuple[dict, str], tmp_path: Path) -> None:
    record, token = sealed
    pdf = wr.render(record, token, format="pdf", dpi=300)
    assert pdf.startswith(b"%PDF-")
    src = tmp_path / "label.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(
        [need("pdftoppm"), "-r", "300", "-gray", "-png", "-singlefile", str(src), str(tmp_path / "page")],
        capture_output=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr.decode()
    assert zbar(tmp_path / "page.png", "qrcode") == token
    assert zbar(tmp_path / "page.png", "code128") == record["tracking_number"]


def test_label_objects_encode_every_format_alike(sealed: tuple[dict, str], tmp_path: Path) -> None:
    record, token = sealed
    label = wr.render_label(record, token, size="76x130", dpi=300)
    assert (label.width, label.height, label.dpi) == (898, 1535, 300)
    assert label.png() == wr.render(record, token, size="76x130", dpi=300)
    assert label.zpl() == wr.render(record, token, size="76x130", dpi=300, format="zpl")
    assert label.pdf() == wr.render(record, token, size="76x130", dpi=300, format="pdf")
    assert b"^BQ" in label.zpl(native_codes=True)
    image = label.to_pil()
    assert image.size == (label.width, label.height) and image.mode == "1"
    assert "Label(" in repr(label)


def test_write_pdf_streams_many_pages(sealed: tuple[dict, str], records: list[dict], tmp_path: Path) -> None:
    _, token = sealed
    labels = (wr.render_label(r, token) for r in records[:5])
    out = tmp_path / "labels.pdf"
    assert wr.write_pdf(out, labels) == 5
    info = subprocess.run([need("pdfinfo"), str(out)], capture_output=True, timeout=60).stdout.decode()
    assert re.search(r"^Pages:\s+5$", info, re.M), info


def test_fonts_bundled_and_from_a_file(sealed: tuple[dict, str]) -> None:
    record, token = sealed
    assert wr.render(record, token, fonts=wr.Fonts.bundled()) == wr.render(record, token)
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    latin = {"tracking_number": "SF1234567890123", "zone": 755021,
             "recipient": {"name": "John Smith", "phone": "+1 415 555 0100",
                           "address": {"country": "US", "city": "San Francisco", "region": "CA",
                                       "street": "1 Market St", "postal_code": "94105"}}}
    if dejavu.exists():
        # DejaVu Sans has no hanzi, which the label's own captions use: a typed
        # error naming the field and the character, never a blank box.
        with pytest.raises(wr.RenderError, match=r"U\+[0-9A-F]{4}") as e:
            wr.render(latin, token, fonts=wr.Fonts(dejavu))
        assert e.value.field is not None
    with pytest.raises(wr.RenderError):
        wr.Fonts(Path(__file__))  # not a font
    with pytest.raises(FileNotFoundError):
        wr.Fonts("/nonexistent/font.ttf")
