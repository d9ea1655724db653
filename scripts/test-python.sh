#!/usr/bin/env bash
# The Python binding's tests (crates/python): builds the extension with maturin
# into a virtualenv (target/py-venv), then runs mypy's stubtest on the hand-written
# stub, the docstrings' examples (doctest) and the pytest suite, which compares
# with the `waybill-redact` command and reads labels with zbarimg, labelize and
# pdftoppm. Idempotent; installs what is missing.
#
# WAYBILL_PY_MEMORY_LABELS: labels of the RSS-flatness test. CI runs 20,000
# (about 40 s on 2 cores in release); the issue's full 50,000 is a local run:
#   WAYBILL_PY_MEMORY_LABELS=50000 scripts/test-python.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v zbarimg >/dev/null || need_apt+=(zbar-tools)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v labelize >/dev/null; then
  echo "installing labelize (cargo install labelize --features cli)"
  cargo install --locked labelize --version 1.10.0 --features cli
fi

venv=target/py-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  maturin==1.9.4 pytest==8.4.2 pillow==11.3.0 mypy==1.18.2
export VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH"

# The command the tests compare with, and the extension (release: the memory and
# thread tests render thousands of labels).
# The same features as the test build (scripts/test.sh), so its binary is reused
# rather than the library compiled once more with the CLI's default features.
cargo build -q --workspace --all-features --bins
export WAYBILL_CLI="${CARGO_TARGET_DIR:-$PWD/target}/debug/waybill-redact"
(cd crates/python && maturin develop --release -q)

cd crates/python
# The stub must match the module, name for name and signature for signature.
(cd /tmp && python -m mypy.stubtest waybill_redact._native)
# The stub and the package type-check strictly, as a user's mypy sees them.
python -m mypy --strict python/waybill_redact
# Every docstring example runs.
python - <<'PY'
import doctest, sys
import waybill_redact, waybill_redact._native
failed = sum(doctest.testmod(m).failed for m in (waybill_redact, waybill_redact._native))
print(f"doctest: {'FAILED' if failed else 'ok'}")
sys.exit(1 if failed else 0)
PY
WAYBILL_PY_MEMORY_LABELS="${WAYBILL_PY_MEMORY_LABELS:-20000}" \
  timeout 1200 python -m pytest -q -rA tests -p no:cacheprovider
