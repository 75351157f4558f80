#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server.
#
#   bash scripts/with-postgres.sh npx vitest run tests/postgres
#
# Installs PostgreSQL with apt-get when no initdb is found, creates a cluster in a temporary
# folder (as a non-root user: postgres servers refuse to run as root), starts it on a free port
# listening on 127.0.0.1 only, creates a database, exports DATABASE_URL, runs the command, then
# stops the server and removes the folder even when the command fails or is interrupted. Exits
# with the command's status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/with-postgres.sh <command...>" >&2
  exit 2
fi

find_bindir() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$initdb" ]; then dirname "$initdb"; fi
}

BINDIR=$(find_bindir)
if [ -z "$BINDIR" ]; then
  echo "with-postgres: installing postgresql with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  BINDIR=$(find_bindir)
  if [ -z "$BINDIR" ]; then
    echo "with-postgres: no initdb after installing postgresql" >&2
    exit 1
  fi
fi

# The server must not run as root: as root, run it as the system user `postgres` (created by
# the Debian package), or create a system user of our own when there is none.
RUN_AS=()
OWNER=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  OWNER=postgres
  if ! id -u "$OWNER" >/dev/null 2>&1; then
    OWNER=gatehouse-pg
    id -u "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER"
  fi
  RUN_AS=(runuser -u "$OWNER" --)
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-pg.XXXXXX")
chmod 700 "$DIR"
[ "$(id -u)" -eq 0 ] && chown "$OWNER" "$DIR"
DATA="$DIR/data"
LOG="$DIR/server.log"
STARTED=0

# Runs a server tool as the server's user, from the temporary folder (the caller's working
# directory may be one that user cannot enter, such as root's home).
as_owner() { (cd "$DIR" && "${RUN_AS[@]}" "$@"); }

cleanup() {
  local status=$?
  if [ "$STARTED" -eq 1 ]; then
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 ||
      as_owner "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  exit "$status"
}
CHILD=""
stop_child() {
  [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null
  exit "$1"
}
trap cleanup EXIT
trap 'stop_child 130' INT
trap 'stop_child 143' TERM

PORT=$(node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})")
PASSWORD=$(node -e "console.log(require('node:crypto').randomBytes(18).toString('hex'))")
DATABASE=gatehouse_test

# Password auth over TCP (other local users cannot walk in); trust only on the private socket.
printf '%s\n' "$PASSWORD" >"$DIR/pwfile"
[ "$(id -u)" -eq 0 ] && chown "$OWNER" "$DIR/pwfile"
chmod 600 "$DIR/pwfile"
as_owner "$BINDIR/initdb" -D "$DATA" -U postgres --pwfile="$DIR/pwfile" \
  --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 || {
  cat "$DIR/initdb.log" >&2
  exit 1
}
rm -f "$DIR/pwfile"

# A throwaway cluster: durability settings off for speed.
STARTED=1
as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || {
  echo "with-postgres: the server did not start; its log:" >&2
  cat "$LOG" >&2 || true
  exit 1
}

as_owner "$BINDIR/createdb" -h "$DIR" -p "$PORT" -U postgres "$DATABASE"

export DATABASE_URL="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
echo "with-postgres: PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

# In the background so that a signal to this script stops the command and still cleans up.
set +e
"$@" <&0 &
CHILD=$!
wait "$CHILD"
STATUS=$?
CHILD=""
exit "$STATUS"
