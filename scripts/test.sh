#!/usr/bin/env bash
# The project's test command (README, CI). Installs the real readers the tests use
# (zbarimg, tesseract with chi_sim and the world scripts' languages, qpdf, pdftoppm,
# labelize) and PostgreSQL when they are missing, then runs the whole test suite
# with a throwaway PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v zbarimg >/dev/null || need_apt+=(zbar-tools)
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr)
[ -e /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ] || ls /usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata >/dev/null 2>&1 || need_apt+=(tesseract-ocr-chi-sim)
# The scripts the bundled fonts draw, read back by tests/render_ocr_scripts.rs.
for lang in kor ara heb tha hin rus ell vie; do
  ls /usr/share/tesseract-ocr/*/tessdata/$lang.traineddata >/dev/null 2>&1 || need_apt+=(tesseract-ocr-$lang)
done
command -v qpdf >/dev/null || need_apt+=(qpdf)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# labelize renders our ZPL independently (crates.io, MIT).
if ! command -v labelize >/dev/null; then
  echo "installing labelize (cargo install labelize --features cli)"
  cargo install --locked labelize --version 1.10.0 --features cli
fi

# The resolver service's tests need a real PostgreSQL: a throwaway cluster on
# 127.0.0.1, started as an unprivileged user and stopped at the end.
scripts/with-postgres.sh cargo test --workspace --all-features
scripts/test-web.sh
scripts/test-ops.sh
scripts/test-python.sh
scripts/test-schemathesis.sh
