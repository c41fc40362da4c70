#!/usr/bin/env bash
# CI: make a PostgreSQL server available for the test suite and print its URL (and nothing else) on stdout.
#
#   LEADDESK_TEST_PG_URL="$(bash .ci/postgres.sh)"   # a plain assignment: under `set -e` a failure stops CI
#   export LEADDESK_TEST_PG_URL                      # (`export X="$(...)"` would hide it and test SQLite only)
#
# On a fresh Debian machine (as root, or with sudo) it installs the distribution's postgresql package if
# pg_ctlcluster is missing, creates a cluster if there is none, starts it, and creates a role that may create
# databases (each test session makes and drops its own) and the test database. Running it again is harmless.
# Cluster, role, password and database can be changed with LEADDESK_PG_CLUSTER, LEADDESK_PG_ROLE,
# LEADDESK_PG_PASSWORD and LEADDESK_PG_DB.
set -euo pipefail

role="${LEADDESK_PG_ROLE:-leaddesk}"
password="${LEADDESK_PG_PASSWORD:-leaddesk}"
db="${LEADDESK_PG_DB:-leaddesk_test}"
cluster="${LEADDESK_PG_CLUSTER:-main}"

say() { echo "postgres.sh: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >&2
    as_root apt-get install -y -qq postgresql >&2
fi

# The newest installed major version (Debian 12 ships 15).
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
[ -n "$version" ] || { say "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }

if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'
then
    say "creating cluster $version/$cluster"
    as_root pg_createcluster "$version" "$cluster" >&2
fi

if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c && $4 ~ /^online/ { up = 1 }
                                                         END { exit !up }'; then
    say "starting cluster $version/$cluster"
    as_root pg_ctlcluster "$version" "$cluster" start >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')"

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { say "the server on port $port does not accept connections"; exit 1; }

# Role (created or brought up to date: password, LOGIN, CREATEDB) and database, both only if missing.
as_postgres psql -q -X -v ON_ERROR_STOP=1 -p "$port" -d postgres \
    -v role="$role" -v password="$password" >&2 <<'SQL'
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'password')
\gexec
SQL
as_postgres psql -q -X -v ON_ERROR_STOP=1 -p "$port" -d postgres -v role="$role" -v db="$db" >&2 <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
SQL

urlquote() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
echo "postgresql+psycopg://$(urlquote "$role"):$(urlquote "$password")@127.0.0.1:${port}/$(urlquote "$db")"
