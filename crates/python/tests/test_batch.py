"""render_batch: input order, bad records yield their exception and never stop
the others, read_batch's errors pass through, and Python threads can render at
once."""

from __future__ import annotations

import json
import threading

import pytest

import waybill_redact as wr
from conftest import FIXTURES


def test_a_batch_with_bad_records_yields_every_good_label(records: list[dict]) -> None:
    ring = wr.Ring.generate()
    bad_phone = json.loads(json.dumps(records[1]))
    bad_phone["recipient"]["phone"] = "call me"
    batch = [records[0], bad_phone, "{oops", records[2], dict(records[3], zone=4_000_000_000), records[4]]
    for jobs in (1, 2, 4):
        out = list(wr.render_batch(batch, ring, format="zpl", jobs=jobs))
        assert [i for i, _ in out] == list(range(len(batch)))
        kinds = [type(v).__name__ for _, v in out]
        assert kinds == ["bytes", "InputError", "InputError", "bytes", "bytes", "bytes"]
        assert out[1][1].field == "recipient.phone" and "call me" not in str(out[1][1])
        assert [out[i][1].position for i in (1, 2)] == [2, 3]
        for i in (0, 3, 4, 5):
            assert out[i][1].startswith(b"^XA")


def test_read_batch_errors_pass_through_with_their_positions() -> None:
    ring = wr.Ring.generate()
    path = FIXTURES / "orders.csv"
    read = list(wr.read_batch(path))
    out = list(wr.render_batch(wr.read_batch(path), ring, format="label", jobs=2))
    assert len(out) == len(read)
    for (index, value), item in zip(out, read):
        if isinstance(item, wr.InputError):
            assert isinstance(value, wr.InputError) and value.position == item.position
        else:
            assert isinstance(value, wr.Label), value
    assert any(isinstance(i, wr.InputError) for i in read)


def test_seller_batches_seal_to_the_directory(carrier, records: list[dict]) -> None:
    sealer = wr.Sealer(
        wr.Directory.load(carrier.path("directory.json"), carrier=carrier.carrier_public),
        wr.SealerKey.load(carrier.path("seller.json")),
    )
    outside = dict(records[0], zone=999999)
    out = list(wr.render_batch([records[0], outside], sealer, jobs=2))
    assert isinstance(out[0][1], bytes)
    assert isinstance(out[1][1], wr.TokenError) and out[1][1].position == 2


def test_bad_arguments_raise_at_once(records: list[dict]) -> None:
    ring = wr.Ring.generate()
    with pytest.raises(TypeError):
        wr.render_batch(records, object())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        wr.render_batch(records, ring, jobs=0)
    with pytest.raises(TypeError):
        list(wr.render_batch([records[0], 7], ring))  # type: ignore[list-item]


def test_an_abandoned_batch_stops_cleanly(records: list[dict]) -> None:
    ring = wr.Ring.generate()
    it = wr.render_batch(iter(records * 50), ring, jobs=2)
    first = [next(it) for _ in range(3)]
    assert [i for i, _ in first] == [0, 1, 2]
    del it


THREADS = 4
PER_THREAD = 500


def test_four_python_threads_render_500_labels_each(records: list[dict]) -> None:
    """Every label equals the one rendered alone for the same record and token."""
    token = wr.Ring.generate().seal(records[0])
    sample = records[:10]
    expected = [wr.render(r, token, format="zpl") for r in sample]
    failures: list[str] = []
    counts = [0] * THREADS

    def work(n: int) -> None:
        try:
            for i in range(PER_THREAD):
                k = (i + n) % len(sample)
                got = wr.render(sample[k], token, format="zpl")
                if got != expected[k]:
                    failures.append(f"thread {n} label {i}")
                counts[n] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"thread {n}: {e!r}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert counts == [PER_THREAD] * THREADS


def test_four_python_threads_each_run_a_batch(records: list[dict]) -> None:
    ring = wr.Ring.generate()
    results: dict[int, list] = {}

    def work(n: int) -> None:
        results[n] = list(wr.render_batch(records[: 125], ring, format="label", jobs=2))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(THREADS))
    for out in results.values():
        assert [i for i, _ in out] == list(range(min(125, len(records))))
        assert all(isinstance(v, wr.Label) for _, v in out)
