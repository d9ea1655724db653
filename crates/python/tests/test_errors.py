"""Bad input raises (or, in batches, yields) the typed exception with the record's
position and the field's path, and never a value from the record."""

from __future__ import annotations

import io
import json

import pytest

import waybill_redact as wr

SECRET_PHONE = "138-SECRET-99"
GOOD = {"tracking_number": "SF1234567890123", "zone": 755021,
        "recipient": {"name": "张三", "phone": "13812345678", "address": "广东省深圳市南山区深南大道10000号"}}


def test_a_bad_field_is_an_input_error_naming_the_field_not_the_value() -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["recipient"]["phone"] = SECRET_PHONE
    with pytest.raises(wr.InputError) as e:
        wr.mask(bad)
    assert e.value.field == "recipient.phone"
    assert e.value.position is None
    assert SECRET_PHONE not in str(e.value) and "SECRET" not in repr(e.value)
    assert isinstance(e.value, wr.WaybillError)


def test_malformed_json_and_wrong_types() -> None:
    with pytest.raises(wr.InputError) as e:
        wr.mask('{"tracking_number": "SF1234567890123", "zone": ')
    assert e.value.field is None
    with pytest.raises(wr.InputError) as e:
        wr.mask(dict(GOOD, zone="near the sea"))
    assert e.value.field == "zone" and "near the sea" not in str(e.value)
    with pytest.raises(TypeError):
        wr.mask(42)  # type: ignore[arg-type]


def test_read_batch_yields_errors_with_positions_and_goes_on() -> None:
    lines = [
        json.dumps(GOOD, ensure_ascii=False),
        json.dumps(dict(GOOD, recipient=dict(GOOD["recipient"], phone=SECRET_PHONE)), ensure_ascii=False),
        "{not json",
        json.dumps(dict(GOOD, tracking_number="SF9999999999999"), ensure_ascii=False),
        json.dumps(dict(GOOD, recipient=dict(GOOD["recipient"], address="x" * 70000))),
        json.dumps(GOOD, ensure_ascii=False).replace("SF1234567890123", "SF1111111111111"),
    ]
    data = "\n".join(lines) + "\n"
    for source in (io.BytesIO(data.encode()), io.StringIO(data)):
        items = list(wr.read_batch(source))
        kinds = [(type(i).__name__, i.position) for i in items]
        assert kinds == [
            ("Record", 1), ("InputError", 2), ("InputError", 3), ("Record", 4),
            ("InputError", 5), ("Record", 6),
        ]
        assert items[1].field == "recipient.phone"
        assert items[4].field is None and "too large" in str(items[4])
        for i in items:
            assert SECRET_PHONE not in str(i) and SECRET_PHONE not in repr(i)
            assert "xxxx" not in str(i)


def test_read_batch_limits_and_formats(tmp_path) -> None:
    path = tmp_path / "orders.txt"
    path.write_text(json.dumps(dict(GOOD, recipient=dict(GOOD["recipient"], address="广东省深圳市南山区深南大道" * 9)), ensure_ascii=False) + "\n")
    [item] = wr.read_batch(path, max_record_bytes=300)
    assert isinstance(item, wr.InputError) and "too large" in str(item) and item.position == 1
    [item] = wr.read_batch(path)
    assert isinstance(item, wr.Record)
    with pytest.raises(ValueError):
        wr.read_batch(path, format="xml")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        wr.read_batch(tmp_path / "missing.csv")


def test_render_errors_are_typed() -> None:
    token = "WB2:EXAMPLE"
    with pytest.raises(wr.RenderError) as e:
        wr.render(GOOD, token, size="100 by 150")
    assert "100x150" in str(e.value)
    with pytest.raises(wr.RenderError):
        wr.render(GOOD, token, dpi=20)
    with pytest.raises(wr.RenderError, match="token too long"):
        wr.render(GOOD, "WB2:" + "A" * 5000, size="76x130")
    with pytest.raises(ValueError):
        wr.render(GOOD, token, format="bmp")  # type: ignore[arg-type]
    with pytest.raises(wr.TokenError):
        wr.token_header("not a token")
