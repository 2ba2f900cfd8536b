# Sourced by the project's scripts: where build output and the Python venv live.
# A target directory or venv kept outside the clone (from an earlier build on this
# machine) is reused when it exists; otherwise both live inside the clone.
# shellcheck shell=bash
ORGLAKE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ORGLAKE_ROOT
ORGLAKE_CACHE="${ORGLAKE_CACHE:-/work/.cache}"
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d "$ORGLAKE_CACHE/orglake-target" ]; then
  export CARGO_TARGET_DIR="$ORGLAKE_CACHE/orglake-target"
fi
if [ -z "${ORGLAKE_VENV:-}" ] && [ -d "$ORGLAKE_CACHE/orglake-venv" ]; then
  export ORGLAKE_VENV="$ORGLAKE_CACHE/orglake-venv"
fi
export ORGLAKE_VENV="${ORGLAKE_VENV:-$ORGLAKE_ROOT/.venv}"
ORGLAKE_TARGET="${CARGO_TARGET_DIR:-$ORGLAKE_ROOT/target}"
export ORGLAKE_TARGET
