#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs moto (pinned) into a venv, checks
# formatting, then builds and runs every unit and integration test against real moto
# servers. Tests fail, never skip, when moto is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
cargo fmt --all -- --check
cargo test --locked --all-targets "$@"
