#!/usr/bin/env bash
# Benchmarks (not part of the test suite): builds orglake in release mode, then runs
#   scale benches/scale.py: orglake against the AWS-scale simulator (benches/sim/) at 100,
#         1,000 and 10,000 accounts x 17 regions, next to the older scripts' approach on the
#         same simulator and the floor; `make bench ARGS="scale --accounts 100,1000"`
#   scan  benches/ec2_scan.py: a full scan against moto with injected latency, next to the
#         older scripts' boto3 approach (a correctness-at-latency check: moto is the
#         bottleneck above a few hundred accounts)
#   load  benches/load_and_query.py: a lake's age (day 2, 30 and 365 of a daily lake: commit time, peak RSS and
#         a latest_ query as it ages; --age-days N), then transform + load of a large
#         synthetic snapshot next to DuckDB running the same transform SQL and pyarrow (day 2
#         and DuckDB's runs repeated --rounds N times, default 3, medians compared), and
#         queries over it next to DuckDB
# `make bench` runs both with their defaults; `make bench ARGS="scan --accounts 10,100"` or
# `make bench ARGS="load --instances 200000"` runs one, passing the rest on.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
cargo build --locked --release --bin orglake
orglake="$ORGLAKE_TARGET/release/orglake"
cargo build --locked --release --manifest-path benches/sim/Cargo.toml --target-dir "$ORGLAKE_TARGET/sim"
sim="$ORGLAKE_TARGET/sim/release/orglake-sim"
which="${1:-all}"
[ $# -gt 0 ] && shift
case "$which" in
  scale) "$ORGLAKE_VENV/bin/python" benches/scale.py "$orglake" "$sim" "$@" ;;
  scan) "$ORGLAKE_VENV/bin/python" benches/ec2_scan.py "$orglake" "$@" ;;
  load) "$ORGLAKE_VENV/bin/python" benches/load_and_query.py "$orglake" "$@" ;;
  all)
    "$ORGLAKE_VENV/bin/python" benches/scale.py "$orglake" "$sim"
    "$ORGLAKE_VENV/bin/python" benches/ec2_scan.py "$orglake"
    "$ORGLAKE_VENV/bin/python" benches/load_and_query.py "$orglake"
    ;;
  *) echo "usage: bench.sh [scale|scan|load|all] [arguments of that benchmark]" >&2; exit 2 ;;
esac
