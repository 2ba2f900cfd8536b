#!/usr/bin/env bash
# The demo, from a fresh clone: installs moto, builds orglake, then builds the demo lake in
# demo/lake and queries it (scripts/demo_lake.sh: a 36-account organization in moto, one
# account denied, every example query of queries/athena/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
cargo build --locked --bin orglake
bash scripts/demo_lake.sh "$ORGLAKE_TARGET/debug/orglake" demo
