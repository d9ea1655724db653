"""Tokens sealed in Python (the carrier's suite 1 and the seller's suite) resolve
with the CLI's `resolve` through a grant bound to the courier's device key."""

from __future__ import annotations

import json
import os
import stat

import pytest

import waybill_redact as wr
from conftest import Carrier, run_cli


def test_suite_1_token_sealed_in_python_resolves(carrier: Carrier, records: list[dict]) -> None:
    ring = wr.Ring.load(carrier.path("ring.json"))
    record = records[0]
    token = ring.seal(record, ttl_days=7)
    header = wr.token_header(token)
    assert header["suite"] == 1 and header["zone"] == record["zone"]
    assert header["tracking_number"] == record["tracking_number"]
    shown = carrier.resolve(token, record["zone"])
    assert shown["name"] == record["recipient"]["name"]
    assert shown["phone"] == record["recipient"]["phone"]


def test_seller_token_sealed_in_python_resolves(carrier: Carrier, records: list[dict]) -> None:
    directory = wr.Directory.load(carrier.path("directory.json"), carrier=carrier.carrier_public)
    key = wr.SealerKey.load(carrier.path("seller.json"))
    assert key.public_key == carrier.seller_public
    sealer = wr.Sealer(directory, key)
    for record in records[:3]:
        token = sealer.seal(wr.Record(record))
        shown = carrier.resolve(token, record["zone"])
        assert shown["name"] == record["recipient"]["name"]


def test_seller_tokens_have_the_suite_the_cli_seals_with(carrier: Carrier, records: list[dict], tmp_path) -> None:
    """Sealer produces what the library's seller sealing produces by default."""
    one = tmp_path / "one.json"
    one.write_text(json.dumps([records[0]], ensure_ascii=False))
    cli = run_cli(
        "seal", "--directory", str(carrier.path("directory.json")), "--sealer",
        str(carrier.path("seller.json")), "--carrier", carrier.carrier_public, "--input", str(one),
    ).stdout.decode().strip()
    sealer = wr.Sealer(
        wr.Directory.load(carrier.path("directory.json"), carrier=carrier.carrier_public),
        wr.SealerKey.load(carrier.path("seller.json")),
    )
    ours = sealer.seal(records[0])
    assert ours.split(":")[0] == cli.split(":")[0]
    assert wr.token_header(ours)["suite"] == wr.token_header(cli)["suite"] != 1
    if wr.token_header(ours)["sealer_id"] is not None:  # generation 2 named the seller
        assert wr.token_header(ours)["sealer_id"] == sealer.sealer_id
    assert ours != cli  # a fresh ephemeral key per token


def test_the_carrier_key_may_be_a_file_but_never_the_secret(carrier: Carrier) -> None:
    d = wr.Directory.load(carrier.path("directory.json"), carrier=str(carrier.path("carrier.pub")))
    assert 755021 in d.zones
    with pytest.raises(wr.KeyFileError, match="secret") as e:
        wr.Directory.load(carrier.path("directory.json"), carrier=str(carrier.path("issuer.json")))
    assert "WI1" in str(e.value) and '"secret"' not in str(e.value)


def test_a_tampered_or_foreign_directory_is_a_key_file_error(carrier: Carrier, tmp_path) -> None:
    text = carrier.path("directory.json").read_text()
    bad = tmp_path / "directory.json"
    bad.write_text(text.replace('"zone": 0,', '"zone": 1,', 1))
    with pytest.raises(wr.KeyFileError, match="signature"):
        wr.Directory.load(bad, carrier=carrier.carrier_public)
    other = run_cli("issuer", "new", "--out", str(tmp_path / "other.json")).stdout.decode().strip()
    with pytest.raises(wr.KeyFileError, match="another issuer"):
        wr.Directory.load(carrier.path("directory.json"), carrier=other)
    with pytest.raises(wr.KeyFileError):
        wr.Directory.load(carrier.path("directory.json"), carrier="WI1:nothex")


def test_key_files_of_the_wrong_kind_are_key_file_errors(carrier: Carrier, tmp_path) -> None:
    with pytest.raises(wr.KeyFileError):
        wr.Ring.load(carrier.path("seller.json"))
    with pytest.raises(wr.KeyFileError):
        wr.SealerKey.load(carrier.path("ring.json"))
    with pytest.raises(FileNotFoundError):
        wr.Ring.load(tmp_path / "missing.json")
    for cls in (wr.Ring, wr.SealerKey):
        try:
            cls.load(carrier.path("directory.json"))
        except wr.KeyFileError as e:
            assert e.position is None and e.field is None
        else:
            raise AssertionError("a directory loaded as a key")


def test_a_zone_outside_the_directory_is_a_token_error(carrier: Carrier, records: list[dict]) -> None:
    sealer = wr.Sealer(
        wr.Directory.load(carrier.path("directory.json"), carrier=carrier.carrier_public),
        wr.SealerKey.load(carrier.path("seller.json")),
    )
    record = dict(records[0], zone=999999)
    with pytest.raises(wr.TokenError, match="zone"):
        sealer.seal(record)


def test_saved_keys_are_owner_only_load_back_and_never_overwrite(tmp_path, records: list[dict]) -> None:
    key = wr.SealerKey.generate()
    path = tmp_path / "seller.json"
    key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert wr.SealerKey.load(path).public_key == key.public_key
    with pytest.raises(FileExistsError):
        wr.SealerKey.generate().save(path)
    assert "secret" not in repr(key) and key.public_key in repr(key)
    ring = wr.Ring.generate()
    ring.save(tmp_path / "ring.json")
    again = wr.Ring.load(tmp_path / "ring.json")
    assert again.current_kid == ring.current_kid
    assert wr.token_header(again.seal(records[0]))["suite"] == 1


def test_key_files_group_or_others_may_read_are_refused(tmp_path) -> None:
    ring_path, key_path = tmp_path / "ring.json", tmp_path / "seller.json"
    wr.Ring.generate().save(ring_path)
    wr.SealerKey.generate().save(key_path)
    for path, cls in ((ring_path, wr.Ring), (key_path, wr.SealerKey)):
        os.chmod(path, 0o644)
        with pytest.raises(wr.KeyFileError, match="readable by group or others.*chmod 600"):
            cls.load(path)
        os.chmod(path, 0o600)
        cls.load(path)
