#!/usr/bin/env bash
# The test command of the README: every unit, integration and example test of the workspace,
# criterion benches in test mode (each benchmark runs once), then the doc tests.
#
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets
cargo test --workspace --doc
