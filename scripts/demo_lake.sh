#!/usr/bin/env bash
# Builds the demo lake with a given orglake binary, then queries it:
#   demo_lake.sh ORGLAKE_BINARY DIR
# Starts moto (scripts/demo_moto.py: the demo organization, seeded and aged) on a free
# loopback port, puts the fault proxy in front of it with one rule (AssumeRole into the
# account shared-07 is denied, as when a member account lacks the role), runs
# `orglake run` into DIR/lake, and prints a few queries and every example query of
# queries/athena/. Used by `make demo` and by the test that runs the examples over it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
orglake="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
cd "$ORGLAKE_ROOT"
python="$ORGLAKE_VENV/bin/python"

# Dummy credentials for the emulator; nothing here reaches AWS.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
wait_for() { # FILE PATTERN WHAT: waits up to 5 minutes for PATTERN in FILE
  for _ in $(seq 1 3000); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$3 did not start; see $1" >&2
  exit 1
}

rm -rf "$dir/lake" "$dir/organization.json"
port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$python" scripts/demo_moto.py --port "$port" --out "$dir/organization.json" >"$dir/moto.log" 2>&1 &
pids+=($!)
wait_for "$dir/organization.json" organization_id "moto (seeding the demo organization)"
denied="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["accounts"]["shared-07"])' "$dir/organization.json")"
echo "== seeded the demo organization ($(grep -c '": "[0-9]\{12\}"' "$dir/organization.json") accounts): $dir/organization.json"

echo "[{\"action\": \"AssumeRole\", \"contains\": \"$denied\", \"fault\": \"deny\"}]" >"$dir/proxy-rules.json"
"$python" tests/support/fault_proxy.py --upstream "http://127.0.0.1:$port" --port 0 --rules "$dir/proxy-rules.json" >"$dir/proxy.log" 2>&1 &
pids+=($!)
wait_for "$dir/proxy.log" "listening on" "the fault proxy"
endpoint="http://127.0.0.1:$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$dir/proxy.log" | head -n 1)"

change() { # OPERATIONS_JSON: applies them with boto3 (scripts/change_org.py), prints what they made
  echo "$1" >"$dir/changes.json"
  "$python" scripts/change_org.py --endpoint-url "http://127.0.0.1:$port" "$dir/changes.json"
}
account() { "$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["accounts"][sys.argv[2]])' "$dir/organization.json" "$1"; }
prod="$(account prod-00)"
payments="$(account payments-01)"
private="$(change "[{\"op\": \"launch_instance\", \"account\": \"$prod\", \"private\": true}]" \
  | "$python" -c 'import json, sys; print(json.load(sys.stdin)["0"])')"

run() { # AS_OF: one run; AssumeRole into shared-07 is denied, so it is partial (exit 3)
  status=0
  "$orglake" run --endpoint-url "$endpoint" --warehouse "$dir/lake" ${1:+--as-of "$1"} || status=$?
  if [ "$status" != 3 ]; then
    echo "orglake run exited $status; expected 3 (partial: one account denied)" >&2
    exit 1
  fi
}
echo "== orglake run, yesterday (AssumeRole into shared-07, $denied, is denied: the run is partial)"
run "$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)"
echo
echo "== overnight: a contractor user with a key, payments-admin's MFA removed, payments-reader deleted, an Elastic IP on $private"
change "[{\"op\": \"create_user\", \"account\": \"$payments\", \"user\": \"contractor\"},
  {\"op\": \"create_access_key\", \"account\": \"$payments\", \"user\": \"contractor\"},
  {\"op\": \"remove_mfa\", \"account\": \"$payments\", \"user\": \"payments-admin\"},
  {\"op\": \"delete_user\", \"account\": \"$payments\", \"user\": \"payments-reader\"},
  {\"op\": \"public_ip\", \"account\": \"$prod\", \"instance\": \"$private\"}]" >/dev/null
echo "== orglake run, today"
run ""

query() {
  echo
  echo "== orglake query \"$1\""
  "$orglake" query --warehouse "$dir/lake" "$1"
}
query "SELECT ou_path, count(*) AS accounts, count(owner_tag) AS with_owner FROM latest_accounts GROUP BY ou_path ORDER BY ou_path"
query "SELECT stage, status, count(*) AS n FROM latest_account_status GROUP BY stage, status ORDER BY stage, status"
query "SELECT region, state, count(*) AS instances, count(owner_tag) AS with_owner_tag FROM latest_ec2_instances GROUP BY region, state ORDER BY region, state"
query "SELECT ou_path, account_name, instance_id, name_tag, state, image_name FROM latest_ec2_instances ORDER BY ou_path, account_name, instance_id LIMIT 10"
query "SELECT f.check_id, f.severity, count(*) AS findings FROM latest_findings f GROUP BY 1, 2 ORDER BY 2, 1"
query "SELECT run_id, status, accounts_total, accounts_ok, accounts_failed, accounts_skipped FROM runs"
query "SELECT entity_type, change, count(*) AS n FROM latest_changes GROUP BY 1, 2 ORDER BY 1, 2"
for example in queries/athena/*.sql; do
  echo
  echo "== orglake query --file $example"
  "$orglake" query --warehouse "$dir/lake" --file "$example"
done
today="$(date -u +%Y-%m-%d)"
echo
echo "== orglake changes --since $today (what changed overnight, for people who do not write SQL)"
"$orglake" changes --warehouse "$dir/lake" --since "$today"
