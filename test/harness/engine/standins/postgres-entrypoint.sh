#!/bin/sh
# Stand-in entrypoint: what the official postgres image's entrypoint does for the variables the
# stack sets. First start (empty $PGDATA): initdb with POSTGRES_USER as superuser and
# POSTGRES_PASSWORD (read from a private file, never a command line), create POSTGRES_DB, accept
# password logins from the network. Every start: exec postgres (PID 1 of the container, or the
# child of its init), so the stop signal reaches it.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then echo "stand-in postgres: POSTGRES_PASSWORD is not set" >&2; exit 1; fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
  rm -f "$pwfile"
  if [ "$POSTGRES_DB" != "postgres" ]; then
    printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$POSTGRES_DB" "$POSTGRES_USER" | postgres --single -j -D "$PGDATA" postgres >/dev/null
  fi
  printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  echo "stand-in postgres: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
if [ "${1:-}" = "postgres" ]; then shift; exec postgres -D "$PGDATA" "$@"; fi
exec "$@"
