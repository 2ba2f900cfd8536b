#!/usr/bin/env bash
# The demo, from a fresh clone: installs moto, builds orglake, starts moto on a free
# loopback port, seeds a demo organization (36 accounts in nested OUs), runs
# `orglake run` into demo/lake and ends with a few `orglake query` results.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
cargo build --locked --bin orglake
orglake="$ORGLAKE_TARGET/debug/orglake"

# Dummy credentials for the emulator; nothing here reaches AWS.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
port="$("$ORGLAKE_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$ORGLAKE_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >demo-moto.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
endpoint="http://127.0.0.1:$port"
for attempt in $(seq 1 300); do
  curl -fs "$endpoint/moto-api/data.json" >/dev/null 2>&1 && break
  if [ "$attempt" = 300 ]; then
    echo "moto did not start on $endpoint; see demo-moto.log" >&2
    exit 1
  fi
  sleep 0.1
done

mkdir -p demo
rm -rf demo/lake
"$ORGLAKE_VENV/bin/python" scripts/seed_org.py --endpoint-url "$endpoint" --demo >demo/organization.json
echo "== seeded the demo organization ($(grep -c '": "[0-9]\{12\}"' demo/organization.json) accounts): demo/organization.json"

echo "== orglake run"
"$orglake" run --endpoint-url "$endpoint" --warehouse demo/lake

query() {
  echo
  echo "== orglake query \"$1\""
  "$orglake" query --warehouse demo/lake "$1"
}
query "SELECT ou_path, count(*) AS accounts, count(owner_tag) AS with_owner FROM latest_accounts GROUP BY ou_path ORDER BY ou_path"
query "SELECT ou_path, account_id, account_name, owner_tag, status FROM latest_accounts ORDER BY ou_path, account_name"
query "SELECT stage, status, count(*) AS n FROM latest_account_status GROUP BY stage, status ORDER BY stage, status"
query "SELECT region, state, count(*) AS instances, count(owner_tag) AS with_owner_tag FROM latest_ec2_instances GROUP BY region, state ORDER BY region, state"
query "SELECT ou_path, account_name, instance_id, name_tag, state, image_name FROM latest_ec2_instances ORDER BY ou_path, account_name, instance_id LIMIT 10"
query "SELECT f.check_id, f.severity, count(*) AS findings FROM latest_findings f GROUP BY 1, 2 ORDER BY 2, 1"
query "SELECT u.account_id, u.user_name, u.console_access, u.mfa_enabled, u.active_key_count FROM latest_iam_users u ORDER BY 1, 2 LIMIT 8"
query "SELECT run_id, status, accounts_total, accounts_ok, accounts_failed, accounts_skipped FROM runs"
