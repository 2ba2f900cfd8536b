#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs moto (pinned) into a venv, checks
# formatting, then builds and runs every unit and integration test against real moto
# servers. Tests fail, never skip, when moto is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
cargo fmt --all -- --check
cargo fmt --manifest-path benches/sim/Cargo.toml -- --check
# The benchmarks' AWS-scale simulator is a package of its own (benches/sim/); the test that
# holds it to moto starts this build of it.
cargo build --locked --manifest-path benches/sim/Cargo.toml --target-dir "$ORGLAKE_TARGET/sim"
export ORGLAKE_SIM_BIN="$ORGLAKE_TARGET/sim/debug/orglake-sim"
cargo test --locked --all-targets "$@"
