#!/usr/bin/env bash
# The library's public API against the previous commit's (cargo-semver-checks,
# from crates.io): a change that breaks the API must come with a version bump
# (0.x: the minor number). Called by .ci/run.
#
# The baseline is HEAD~1, built from this repository's own history, so no
# registry copy of the crate is needed. CI checks out main: in a shallow clone
# the script fetches one more commit; with no previous commit at all (the first
# commit, or a clone that cannot be deepened) there is nothing to compare with,
# and it says so and passes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null; then
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    git fetch -q --deepen=1 origin "$(git rev-parse HEAD)" 2>/dev/null \
      || git fetch -q --deepen=1 2>/dev/null || true
  fi
fi
if ! git rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null; then
  echo "semver: no previous commit to compare with (first commit, or a clone cut at HEAD): skipped"
  exit 0
fi

# The release that reads the rustdoc JSON of our toolchain (rust 1.95).
VERSION=0.51.0
if ! cargo semver-checks --version 2>/dev/null | grep -q " $VERSION\$"; then
  cargo install --locked cargo-semver-checks --version "$VERSION"
fi

# Default feature choice: every feature but those named for benches or unstable
# use (so `bench`, whose items are hidden and not part of the API, is left out).
cargo semver-checks check-release -p waybill-redact --baseline-rev HEAD~1
