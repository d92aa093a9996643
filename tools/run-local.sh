#!/usr/bin/env bash
# `make run`: a local chain with the contracts deployed and the demo municipality loaded.
# The chain stays up until Ctrl-C.
set -euo pipefail
port="${RUN_PORT:-8545}"
network="${RUN_NETWORK:-socialcoin-local}"
# Months of simulated history before today (socialcoin.simulation): the chain starts that long ago and the
# demo loader moves its clock forward to today. 0: no history, the chain starts now.
history_months="${HISTORY_MONTHS:-6}"

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "Port $port is in use: stop what runs there, or pick another with 'make run RUN_PORT=...'." >&2
  exit 1
fi

genesis=$(( $(date +%s) - (history_months * 30 + 2) * 86400 ))
anvil --port "$port" --chain-id 31337 --base-fee 0 --gas-limit 300000000 --accounts 20 --silent \
  --timestamp "$genesis" &
anvil_pid=$!
trap 'kill "$anvil_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

export PYTHONWARNINGS=ignore::FutureWarning
SOCIALCOIN_ADMIN_DELAY="${SOCIALCOIN_ADMIN_DELAY:-3600}" brownie run scripts/deploy.py --network "$network" --silent
brownie run scripts/demo.py --network "$network" --silent

# The backend, against this chain and a local SQLite file that starts empty with every run.
mkdir -p var
rm -f var/socialcoin.db var/socialcoin.db-wal var/socialcoin.db-shm
export SOCIALCOIN_ENVIRONMENT=development
export SOCIALCOIN_RPC_URL="http://127.0.0.1:$port"
export SOCIALCOIN_DEPLOYMENT_FILE="$PWD/deployments/$network.json"
export SOCIALCOIN_DATABASE_URL="sqlite:///$PWD/var/socialcoin.db"
export SOCIALCOIN_PUBLIC_URL="http://127.0.0.1:${API_PORT:-8000}"
admin_token="$(python -m socialcoin.server token --role municipality_admin --label "make run")"
python -m socialcoin.demo --history-months "$history_months"

echo "  The municipality (admin): ${SOCIALCOIN_PUBLIC_URL}/toegang with access code $admin_token"
echo
echo "Chain:   http://127.0.0.1:$port (chain id 31337)"
echo "Backend: ${SOCIALCOIN_PUBLIC_URL}  (the pages; API documentation: /docs)"
echo "Admin token for this run (the API's bearer token, and the admin's access code): $admin_token"
echo "Ctrl-C stops everything."
python -m socialcoin.server serve --port "${API_PORT:-8000}"
