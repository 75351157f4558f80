#!/usr/bin/env bash
# Runs a command against a throwaway Redis server.
#
#   bash scripts/with-redis.sh npx vitest run tests/redis
#
# Installs Debian's redis-server with apt-get when none is found (as root, or through
# `sudo -n`), starts one in a temporary folder on a free port listening on 127.0.0.1 only,
# without persistence (--save '' --appendonly no), exports REDIS_URL (and REDIS_SERVER_BIN, for
# tests that start and stop servers of their own), runs the command, then stops the server and
# removes the folder even when the command fails or is interrupted. Exits with the command's
# status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/with-redis.sh <command...>" >&2
  exit 2
fi

find_server() {
  command -v redis-server 2>/dev/null || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; } || true
}

SERVER=$(find_server)
if [ -z "$SERVER" ]; then
  echo "with-redis: installing redis-server with apt-get" >&2
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then
      SUDO=(sudo -n)
    else
      echo "with-redis: redis-server is missing and cannot be installed (not root, no sudo -n)" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq redis-server >/dev/null
  SERVER=$(find_server)
  if [ -z "$SERVER" ]; then
    echo "with-redis: no redis-server after installing it" >&2
    exit 1
  fi
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-redis.XXXXXX")
chmod 700 "$DIR"
PIDFILE="$DIR/redis.pid"
LOG="$DIR/server.log"
STARTED=0

cleanup() {
  local status=$?
  if [ "$STARTED" -eq 1 ] && [ -s "$PIDFILE" ]; then
    local pid
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
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

# A throwaway server: loopback only, no persistence, no config file of the system.
STARTED=1
"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly no \
  --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG" --protected-mode yes

READY=0
for _ in $(seq 1 100); do
  if node -e "
    const s = require('node:net').connect($PORT, '127.0.0.1');
    s.setTimeout(500, () => process.exit(1));
    s.on('error', () => process.exit(1));
    s.on('data', (d) => process.exit(String(d).startsWith('+PONG') ? 0 : 1));
    s.write('PING\r\n');
  " 2>/dev/null; then
    READY=1
    break
  fi
  sleep 0.1
done
if [ "$READY" -ne 1 ]; then
  echo "with-redis: the server did not start; its log:" >&2
  cat "$LOG" >&2 || true
  exit 1
fi

export REDIS_URL="redis://127.0.0.1:$PORT"
export REDIS_SERVER_BIN="$SERVER"
echo "with-redis: Redis $("$SERVER" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$PORT" >&2

# In the background so that a signal to this script stops the command and still cleans up.
set +e
"$@" <&0 &
CHILD=$!
wait "$CHILD"
STATUS=$?
CHILD=""
exit "$STATUS"
