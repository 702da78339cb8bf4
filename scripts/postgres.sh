#!/usr/bin/env bash
# Start a local PostgreSQL for the distributed-search test and print its URL.
#
#   eval "$(bash scripts/postgres.sh)"   # exports SKMM_TEST_POSTGRES_URL
#
# Installs Debian's postgresql when missing (needs root and apt), starts the
# cluster on 127.0.0.1 and creates the role and database `skmm` (idempotent).
# When that is impossible it prints a message on stderr and nothing on stdout,
# and the test skips.
set -uo pipefail

say() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing postgresql from Debian ..."
    if ! (apt-get install -y -q postgresql >/dev/null 2>&1 || \
          (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1)); then
      say "apt-get install postgresql failed; the PostgreSQL test will skip"
      exit 0
    fi
  else
    say "postgresql is not installed and cannot be (needs root + apt); the test will skip"
    exit 0
  fi
fi

cluster=$(pg_lsclusters --no-header 2>/dev/null | head -n 1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main >/dev/null 2>&1 || { say "cannot create a cluster"; exit 0; }
  cluster=$(pg_lsclusters --no-header | head -n 1)
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$name" start >/dev/null 2>&1 || { say "cannot start cluster $version/$name"; exit 0; }
fi
for _ in $(seq 30); do
  su postgres -c "psql -p $port -tAc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
psql_do() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -tAc \"$1\"" 2>/dev/null; }
if [ "$(psql_do "select 1 from pg_roles where rolname='skmm'")" != "1" ]; then
  psql_do "create role skmm login password 'skmm'" >/dev/null || { say "cannot create role"; exit 0; }
fi
if [ "$(psql_do "select 1 from pg_database where datname='skmm'")" != "1" ]; then
  psql_do "create database skmm owner skmm" >/dev/null || { say "cannot create database"; exit 0; }
fi
echo "export SKMM_TEST_POSTGRES_URL=postgresql://skmm:skmm@127.0.0.1:$port/skmm"
