#!/usr/bin/env bash
# The courier web app's tests (issue 21): installs Debian's chromium and
# chromium-driver and the npm packages from the lockfile when missing, checks
# that crates/service/app/ is the build of web/courier/ byte for byte, runs the
# TypeScript check and the request-proof vector test, then the browser tests
# against the real service (the debug `waybill-redact` binary, SQLite, 127.0.0.1).
# No browser is downloaded: playwright-core drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v node >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The same features as the test build, so its binaries are reused.
cargo build -q --workspace --all-features --bins

cd web/courier
# esbuild's postinstall only checks its platform binary, which npm ci
# installs as an optional dependency; nothing else has install scripts.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 npm ci --no-audit --no-fund --ignore-scripts
timeout 120 node build.mjs --check
timeout 120 npx tsc --noEmit -p .
timeout 120 node --test tests/unit/
# Each test has its own timeout (90 s); the whole run is bounded too.
WAYBILL_REDACT_BIN="${CARGO_TARGET_DIR:-$PWD/../../target}/debug/waybill-redact" \
  timeout 900 node --test --test-concurrency=1 --test-timeout=120000 tests/browser/
