#!/usr/bin/env bash
# Benchmarks (not part of the test suite): builds orglake in release mode and runs
# benches/ec2_scan.py. Arguments are passed on, e.g. `make bench ARGS="--accounts 10,100"`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
cargo build --locked --release --bin orglake
"$ORGLAKE_VENV/bin/python" benches/ec2_scan.py "$ORGLAKE_TARGET/release/orglake" "$@"
