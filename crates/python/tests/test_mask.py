"""Masking in Python equals the CLI's `mask`, byte for byte, record for record,
on every shared fixture and the hard cases, for the default policy and others."""

from __future__ import annotations

import json

import pytest

import waybill_redact as wr
from conftest import FIXTURES, run_cli

FILES = ["waybills.json", "hard-cases.jsonl", "coverage.jsonl", "scripts.jsonl", "orders.csv"]

POLICIES = [
    ([], wr.MaskPolicy()),
    (
        ["--address", "city", "--hide-names", "--hide-phones", "--hide-item-count"],
        wr.MaskPolicy(
            recipient=wr.PartyPolicy(name="hidden", phone="hidden", address="city"),
            sender=wr.PartyPolicy(name="hidden", phone="hidden", address="city"),
            items="hidden",
        ),
    ),
    (
        ["--address", "district"],
        wr.MaskPolicy(
            recipient=wr.PartyPolicy(address="district"), sender=wr.PartyPolicy(address="district")
        ),
    ),
]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("flags,policy", POLICIES)
def test_mask_equals_the_cli_byte_for_byte(name: str, flags: list[str], policy: wr.MaskPolicy) -> None:
    path = FIXTURES / name
    out = run_cli("mask", "--input", str(path), *flags, check=False)
    cli_lines = out.stdout.decode().splitlines()
    # The CLI reports each bad record on standard error as `error: record N…`.
    cli_bad = sorted(
        int(line.split()[2].rstrip(":"))
        for line in out.stderr.decode().splitlines()
        if line.startswith("error: record ")
    )
    good, bad = [], []
    for item in wr.read_batch(path):
        if isinstance(item, wr.InputError):
            bad.append(item.position)
        else:
            good.append(item)
    assert bad == cli_bad
    assert len(good) == len(cli_lines) > 0
    for record, line in zip(good, cli_lines):
        assert wr.mask_json(record, policy) == line
        assert wr.mask(record, policy) == json.loads(line)


def test_dicts_and_json_text_mask_like_records(records: list[dict]) -> None:
    for r in records:
        expected = wr.mask_json(wr.Record(r))
        assert wr.mask_json(r) == expected
        assert wr.mask_json(json.dumps(r, ensure_ascii=False)) == expected
        assert wr.mask_json(json.dumps(r).encode()) == expected


def test_masked_output_never_holds_the_full_phone_or_name(records: list[dict]) -> None:
    for r in records:
        text = wr.mask_json(r)
        rec = r["recipient"]
        digits = "".join(c for c in rec["phone"] if c.isdigit())
        if len(digits) >= 7 and not rec.get("virtual_phone"):
            assert digits not in text
        if len(rec["name"]) > 1:
            assert rec["name"] not in text


def test_dangerous_overrides_show_more_and_are_reported() -> None:
    record = json.loads((FIXTURES / "waybills.json").read_text())[0]
    policy = wr.MaskPolicy()
    assert not policy.is_dangerous
    policy.dangerous().show_full_name("recipient").show_phone_digits("recipient", 11)
    assert policy.is_dangerous
    masked = wr.mask(record, policy)
    assert masked["recipient"]["name"] == record["recipient"]["name"]
    assert masked["recipient"]["phone"].endswith(record["recipient"]["phone"][-8:])
    with pytest.raises(ValueError):
        policy.dangerous().show_full_name("courier")  # type: ignore[arg-type]


def test_a_bad_mask_character_is_a_mask_error() -> None:
    for c in ["a", "7", " ", "**"]:
        with pytest.raises(wr.MaskError):
            wr.MaskPolicy(mask_char=c)
    assert wr.mask(
        json.loads((FIXTURES / "waybills.json").read_text())[0], wr.MaskPolicy(mask_char="#")
    )["recipient"]["phone"].startswith("#")


class _Str(str):
    pass


def _outcome(record: object) -> tuple[str, object]:
    """What reading `record` gives: its masked JSON, or its error's type and
    field (never a value)."""
    try:
        return ("ok", wr.mask_json(record))  # type: ignore[arg-type]
    except wr.WaybillError as e:
        return (type(e).__name__, e.field)
    except (TypeError, ValueError, RecursionError) as e:
        return (type(e).__name__, None)


def test_a_dict_reads_exactly_as_its_json_dumps_text(records: list[dict]) -> None:
    # Dicts are written as JSON text directly, without json.dumps, for plain
    # values; anything else goes through json.dumps. Either way a dict must read
    # as its json.dumps text would, errors included.
    base = records[0]
    variants: list[dict] = [
        base,
        dict(base, items=tuple(base.get("items", ()))),  # tuple: a JSON array
        dict(base, zone=float(base["zone"])),  # float where an integer is expected
        dict(base, zone=True),  # bool is not an int here
        dict(base, zone=2**70),  # beyond i64: json.dumps writes it
        dict(base, zone=float("nan")),  # NaN: json.dumps writes NaN, not JSON
        dict(base, note=None),
        dict(base, tracking_number=_Str(base["tracking_number"])),  # str subclass
        dict(base, recipient=dict(base["recipient"], name="\ud800")),  # lone surrogate
        dict(base, recipient=dict(base["recipient"], name='引号"\\\n\t\u2028')),
        {**base, 7: "an int key"},
        {**base, "deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
    ]
    for n, record in enumerate(variants):
        try:
            text = json.dumps(record)
        except (TypeError, ValueError) as e:
            assert _outcome(record) == (type(e).__name__, None), n
            continue
        assert _outcome(record) == _outcome(text), n
    cyclic: dict = dict(base)
    cyclic["self"] = cyclic
    assert _outcome(cyclic) == ("ValueError", None)  # json.dumps: circular reference
