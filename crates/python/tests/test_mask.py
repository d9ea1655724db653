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
