"""Shared fixtures: the command-line tool built by cargo, and a carrier's keys
made with it (ring, issuer, zone directory, a courier's device key, a seller's
registered key), as the CLI's own tests make them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures"


def cli_path() -> Path:
    """The `waybill-redact` binary (crate waybill-redact-cli): WAYBILL_CLI, or
    the workspace's debug build."""
    env = os.environ.get("WAYBILL_CLI")
    path = Path(env) if env else ROOT / "target" / "debug" / "waybill-redact"
    if not path.exists():
        pytest.fail(f"{path}: build it with `cargo build -p waybill-redact-cli`")
    return path


def run_cli(*args: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    out = subprocess.run([str(cli_path()), *args], capture_output=True, input=stdin, timeout=300)
    if check and out.returncode != 0:
        raise AssertionError(f"{args}: exit {out.returncode}: {out.stderr.decode()}")
    return out


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed (scripts/test.sh installs it)")
    return path


ZONES = "0,110105,150102,200000,234100,310115,330106,350203,420104,441900,460105,500103,510106,530102,540102,571003,650102,755021,830011"


@dataclass
class Carrier:
    dir: Path
    carrier_public: str
    seller_public: str

    def path(self, name: str) -> Path:
        return self.dir / name

    def resolve(self, token: str, zone: int) -> dict:
        """Resolves `token` with the CLI through a grant bound to the courier's
        device key, as a courier's app would."""
        not_before = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        grant = run_cli(
            "grant", "--issuer", str(self.path("issuer.json")), "--courier", "C-1",
            "--zones", str(zone), "--hours", "12", "--not-before", not_before,
            "--device-key", str(self.path("device.json")),
        ).stdout.decode().strip()
        self.path("grant.txt").write_text(grant)
        self.path("carrier.pub").write_text(self.carrier_public)
        out = run_cli(
            "resolve", "--ring", str(self.path("ring.json")), "--trust", str(self.path("carrier.pub")),
            "--sealers", str(self.path("sealers.json")), "--grant", str(self.path("grant.txt")),
            "--device", str(self.path("device.json")), "--purpose", "delivery", token,
        )
        return json.loads(out.stdout)


@pytest.fixture(scope="session")
def carrier(tmp_path_factory: pytest.TempPathFactory) -> Carrier:
    d = tmp_path_factory.mktemp("carrier")
    run_cli("keys", "new", "--out", str(d / "ring.json"))
    carrier_public = run_cli("issuer", "new", "--out", str(d / "issuer.json")).stdout.decode().strip()
    run_cli(
        "keys", "publish", "--ring", str(d / "ring.json"), "--issuer", str(d / "issuer.json"),
        "--zones", ZONES, "--out", str(d / "directory.json"),
    )
    seller_public = run_cli("sealer", "new", "--out", str(d / "seller.json")).stdout.decode().strip()
    run_cli("sealer", "register", "--registry", str(d / "sealers.json"), "--key", seller_public)
    run_cli("courier", "keygen", "--out", str(d / "device.json"))
    return Carrier(d, carrier_public, seller_public)


@pytest.fixture(scope="session")
def records() -> list[dict]:
    """The shared fixture's waybills, as dicts."""
    return json.loads((FIXTURES / "waybills.json").read_text())
