#!/usr/bin/env bash
# Captures benches/sim/captured/moto_org.json: the template organization
# (benches/sim/captured/template_org.json) seeded into a fresh moto and read back with
# capture_moto.py. The simulator renders organizations of any size from it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$ORGLAKE_ROOT"
bash scripts/install-moto.sh
port=$("$ORGLAKE_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ORGLAKE_VENV/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/data.json" >/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=capture AWS_SECRET_ACCESS_KEY=capture AWS_DEFAULT_REGION=us-east-1
"$ORGLAKE_VENV/bin/python" scripts/seed_org.py --endpoint-url "http://127.0.0.1:$port" benches/sim/captured/template_org.json >/dev/null
"$ORGLAKE_VENV/bin/python" benches/sim/capture_moto.py --endpoint-url "http://127.0.0.1:$port" \
  --regions eu-west-1,us-east-1 --out benches/sim/captured/moto_org.json
echo "wrote benches/sim/captured/moto_org.json"
