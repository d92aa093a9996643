#!/usr/bin/env bash
# Makes sure a PostgreSQL server of the project's own runs on loopback (port 5433), installing
# Debian's package if needed, and prints the URL the backend tests use. Fails loudly otherwise.
set -euo pipefail
port="${SOCIALCOIN_PG_PORT:-5433}"
cluster=socialcoin

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "Installing PostgreSQL from Debian..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"

if ! pg_lsclusters --no-header | awk '{print $2}' | grep -qx "$cluster"; then
  pg_createcluster "$version" "$cluster" -p "$port" -- --auth-local=trust --auth-host=trust >&2
fi
if ! pg_lsclusters --no-header | awk -v c="$cluster" '$2 == c {print $4}' | grep -qx online; then
  pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 1 100); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { echo "PostgreSQL did not start on port $port" >&2; exit 1; }

# Tests create and drop a database each; dropping one that a finished test still holds a
# connection to needs the right to end other sessions (this cluster is for tests only).
role_exists="$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "select 1 from pg_roles where rolname='socialcoin'")"
if [ "$role_exists" != "1" ]; then
  psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "create role socialcoin login createdb password 'socialcoin'" >&2
fi
psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "grant pg_signal_backend to socialcoin" >&2
echo "postgresql+psycopg://socialcoin:socialcoin@127.0.0.1:$port/postgres"
