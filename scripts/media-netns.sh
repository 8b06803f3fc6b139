#!/usr/bin/env bash
# A private network namespace for media tests (docs/decisions.md, "media tests run in a namespace").
# Janus, Chromium and aioice refuse loopback for ICE, and no test may send media to this machine's own
# interface addresses; so media runs in a namespace NAME with lo up and a veth pair whose BOTH ends are
# inside it: yzm0 = 10.231.0.1/30, yzm1 = 10.231.0.2/30. Nothing is attached to the host's interfaces,
# nothing leaves the namespace.
#
#   media-netns.sh up NAME          create (idempotent) and start the bridges below
#   media-netns.sh down NAME        stop the bridges, delete the namespace (idempotent)
#   media-netns.sh exec NAME CMD..  `up`, then run CMD inside the namespace (its exit status is ours)
#
# The host's PostgreSQL and Redis stay where they are: inside the namespace 127.0.0.1:PGPORT and
# 127.0.0.1:REDISPORT are socat bridges to them over unix sockets (a unix socket is a file, so it crosses
# network namespaces): PostgreSQL's own socket (/var/run/postgresql, local trust), and for Redis a host-side
# socat from a socket under /run/yizhan-media/NAME/ to 127.0.0.1:REDISPORT. So DATABASE_URL and REDIS_URL
# need no change. Ports come from PGPORT (5432) and REDISPORT (6379). Needs root (CI runs as root).
set -euo pipefail

ADDR_A=10.231.0.1
ADDR_B=10.231.0.2
# The ports of DATABASE_URL and REDIS_URL when they name this machine, else PGPORT/REDISPORT or the defaults.
local_port() { [[ $1 =~ (127\.0\.0\.1|localhost):([0-9]+) ]] && echo "${BASH_REMATCH[2]}"; }
PGPORT=${PGPORT:-$(local_port "${DATABASE_URL:-}" || echo 5432)}
REDISPORT=${REDISPORT:-$(local_port "${REDIS_URL:-}" || echo 6379)}
PG_SOCKET=${PG_SOCKET:-/var/run/postgresql/.s.PGSQL.$PGPORT}

die() { echo "media-netns: $*" >&2; exit 1; }
usage() { die "usage: $0 up|down NAME | exec NAME CMD..."; }

[ $# -ge 2 ] || usage
action=$1 name=$2
shift 2
[[ $name =~ ^[A-Za-z0-9_.-]{1,40}$ ]] || die "bad namespace name: $name"
[ "$(id -u)" -eq 0 ] || die "needs root (ip netns); CI runs as root"
command -v ip >/dev/null || die "ip (iproute2) not found"
run_dir=/run/yizhan-media/$name

in_ns() { ip netns exec "$name" "$@"; }
ns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$name"; }

start_daemon() {  # pidfile command... : start unless the pidfile names a live process
  local pidfile=$1; shift
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  setsid "$@" </dev/null >/dev/null 2>&1 &
  echo $! >"$pidfile"
}

stop_daemon() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

up() {
  if ! ns_exists; then
    ip netns add "$name"
  fi
  in_ns ip link set lo up
  if ! in_ns ip link show yzm0 >/dev/null 2>&1; then
    # Created inside the namespace: neither end ever exists in the host's namespace.
    in_ns ip link add yzm0 type veth peer name yzm1
  fi
  in_ns ip addr replace "$ADDR_A/30" dev yzm0
  in_ns ip addr replace "$ADDR_B/30" dev yzm1
  in_ns ip link set yzm0 up
  in_ns ip link set yzm1 up

  mkdir -p "$run_dir"
  if command -v socat >/dev/null; then
    if [ -S "$PG_SOCKET" ]; then
      start_daemon "$run_dir/pg.pid" ip netns exec "$name" socat \
        "TCP-LISTEN:$PGPORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$PG_SOCKET"
    fi
    start_daemon "$run_dir/redis-host.pid" socat \
      "UNIX-LISTEN:$run_dir/redis.sock,fork,unlink-early,mode=600" "TCP:127.0.0.1:$REDISPORT"
    start_daemon "$run_dir/redis-ns.pid" ip netns exec "$name" socat \
      "TCP-LISTEN:$REDISPORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$run_dir/redis.sock"
    for _ in $(seq 50); do  # the listeners are up when the namespace's ports answer
      if in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDISPORT" 2>/dev/null; then break; fi
      sleep 0.1
    done
  else
    echo "media-netns: socat not found: no PostgreSQL/Redis bridge in $name" >&2
  fi
}

down() {
  for pidfile in "$run_dir"/*.pid; do
    [ -e "$pidfile" ] && stop_daemon "$pidfile"
  done
  rm -rf "$run_dir"
  if ns_exists; then
    ip netns delete "$name"
  fi
}

case $action in
  up) up ;;
  down) down ;;
  exec)
    [ $# -ge 1 ] || usage
    up
    exec ip netns exec "$name" "$@"
    ;;
  *) usage ;;
esac
