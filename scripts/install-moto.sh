#!/usr/bin/env bash
# Installs the pinned AWS emulator (moto in server mode) and the Python tools the
# tests use to cross-check the lake (boto3, pyarrow, duckdb) and to lint the CloudFormation
# templates (cfn-lint) and to parse the Athena views in the Trino dialect (sqlglot) into
# .venv/ beside this repo.
# Idempotent: a venv that already has the pinned versions is left as it is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ORGLAKE_VENV:-$here/.venv}"
requirements="$here/scripts/requirements-test.txt"
stamp="$venv/.orglake-requirements"
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" && "$venv/bin/moto_server" --help >/dev/null 2>&1; then
  exit 0
fi
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "installed $("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)') into $venv" >&2
