#!/usr/bin/env bash
# `make run`: a local chain with the contracts deployed and the demo municipality loaded.
# The chain stays up until Ctrl-C.
set -euo pipefail
port="${RUN_PORT:-8545}"
network=socialcoin-local

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "Port $port is in use: stop what runs there, or pick another with 'make run RUN_PORT=...'." >&2
  exit 1
fi

anvil --port "$port" --chain-id 31337 --base-fee 0 --gas-limit 300000000 --accounts 20 --silent &
anvil_pid=$!
trap 'kill "$anvil_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

export PYTHONWARNINGS=ignore::FutureWarning
SOCIALCOIN_ADMIN_DELAY="${SOCIALCOIN_ADMIN_DELAY:-3600}" brownie run scripts/deploy.py --network "$network" --silent
brownie run scripts/demo.py --network "$network" --silent

echo
echo "Chain: http://127.0.0.1:$port (chain id 31337). Ctrl-C stops it."
wait "$anvil_pid"
