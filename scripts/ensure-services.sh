#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis that the tests use answer, at DATABASE_URL and REDIS_URL.
# A server on this machine (127.0.0.1/localhost) that is stopped gets started, and installed first
# (as root) when absent; a remote one is only waited for. The test database is created when missing.
# Idempotent and silent when both already answer. Never stops or flushes anything.
set -euo pipefail

: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/yizhan}"
: "${REDIS_URL:=redis://127.0.0.1:6379/13}"
WAIT_SECONDS=${WAIT_SECONDS:-30}
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "ensure-services: $*"; }
die() { echo "ensure-services: $*" >&2; exit 1; }

# "host port dbname" of scheme://[user[:password]@]host[:port][/dbname][?query]
parse_url() {
  local rest=${1#*://} default_port=$2 hostport path
  rest=${rest%%\?*}
  hostport=${rest%%/*}; hostport=${hostport##*@}
  path=${rest#"${rest%%/*}"}; path=${path#/}
  local host=${hostport%:*} port=${hostport##*:}
  [ "$host" = "$hostport" ] && port=$default_port
  echo "${host:-localhost} ${port:-$default_port} ${path:-}"
}
is_local() { case $1 in 127.0.0.1 | localhost | "[::1]" | ::1) return 0 ;; *) return 1 ;; esac; }

wait_for() {  # name check-command...
  local name=$1; shift
  for _ in $(seq "$WAIT_SECONDS"); do "$@" && return 0; sleep 1; done
  die "$name did not answer within ${WAIT_SECONDS}s"
}

install_pkg() {  # package -- only when the server is missing; ensure-system.sh says what to do as non-root
  say "$1 is not installed"
  "$here/ensure-system.sh" "$1"
}

# --- PostgreSQL ----------------------------------------------------------------------------------
read -r pg_host pg_port pg_db <<<"$(parse_url "$DATABASE_URL" 5432)"
pg_up() { pg_isready -q -d "$DATABASE_URL" 2>/dev/null; }
pg_cluster() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main "$@"; }

if ! pg_up; then
  command -v pg_isready >/dev/null || is_local "$pg_host" || die "pg_isready not found: install postgresql-client"
  if is_local "$pg_host"; then
    if [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
      install_pkg postgresql
      # A fresh Debian cluster asks for a password on TCP; let the local postgres role in, as on the dev machines.
      sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' \
        "$(ls -d /etc/postgresql/*/main | sort -V | tail -n 1)/pg_hba.conf"
      pg_cluster status >/dev/null 2>&1 && pg_cluster reload
    fi
    if ! pg_up && ! pg_cluster status >/dev/null 2>&1; then
      say "starting PostgreSQL"
      pg_cluster start
    fi
  fi
  wait_for "PostgreSQL at $pg_host:$pg_port" pg_up
fi

if ! err=$(LC_ALL=C psql "$DATABASE_URL" -Atqc 'select 1' 2>&1 >/dev/null); then
  if [[ $err == *"database \"$pg_db\" does not exist"* ]]; then
    say "creating database $pg_db"
    maintenance_url="${DATABASE_URL%%\?*}"; maintenance_url="${maintenance_url%/*}/postgres"
    psql "$maintenance_url" -qc "CREATE DATABASE \"$pg_db\"" >/dev/null
  else
    die "cannot connect to $DATABASE_URL: ${err:-unknown error}
  (the default expects trust auth for user postgres on 127.0.0.1; or set DATABASE_URL=postgres://user:password@host:port/db)"
  fi
fi

# --- Redis ---------------------------------------------------------------------------------------
if [[ $REDIS_URL == redis://* || $REDIS_URL == rediss://* ]]; then
  read -r redis_host redis_port _ <<<"$(parse_url "$REDIS_URL" 6379)"
else
  redis_host=socket redis_port=-
fi
redis_up() { [ "$(timeout 5 redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ]; }

if ! redis_up; then
  command -v redis-cli >/dev/null || is_local "$redis_host" || die "redis-cli not found: install redis-tools"
  if is_local "$redis_host"; then
    command -v redis-server >/dev/null || install_pkg redis-server
    if ! redis_up; then
      say "starting Redis on 127.0.0.1:$redis_port"
      data_dir=/var/lib/redis log_dir=/var/log/redis
      if [ "$(id -u)" -eq 0 ]; then
        mkdir -p "$data_dir" "$log_dir"
      elif [ ! -w "$data_dir" ] || [ ! -w "$log_dir" ]; then
        data_dir=$(mktemp -d) log_dir=$data_dir
      fi
      redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no \
        --dir "$data_dir" --logfile "$log_dir/ci.log"
    fi
  fi
  wait_for "Redis at $REDIS_URL" redis_up
fi
