#!/usr/bin/env bash
# Serves the demo: uvicorn in the foreground, and the two periodic jobs that Celery beat runs in
# production (outbox delivery every 5 s, legal-clock sweep every 60 s) as background loops that stop
# with it. Called by `make run` with the embedded-default environment already set.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py="$here/.venv/bin/python"
host=${HOST:-127.0.0.1}
port=${PORT:-8000}

# Signing needs the development CA (documents/ca.py); create it on the first run only.
"$py" "$here/manage.py" dev_ca --if-missing

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

"$py" "$here/manage.py" deliver_outbox --loop 5 >>"$here/var/outbox.log" 2>&1 & pids+=($!)
"$py" "$here/manage.py" sweep_timers --loop 60 >>"$here/var/sweep.log" 2>&1 & pids+=($!)
echo "Background: outbox delivery (var/outbox.log) and the legal-clock sweep (var/sweep.log)."
# WEB_WORKERS uvicorn processes (default 1). Several workers need a channel layer they all share (Redis): with
# the embedded in-memory layer of `make run` each worker would hold its own rooms, and members of one room
# landing on two workers would never hear each other, so the embedded default stays one worker.
workers=${WEB_WORKERS:-1}
layer=${CHANNEL_LAYER:-$([ -n "${REDIS_URL:-}${REDIS_URL_FILE:-}" ] && echo redis || echo memory)}
if [ "$workers" -gt 1 ] && [ "$layer" != redis ]; then
  echo "WEB_WORKERS=$workers needs the Redis channel layer (REDIS_URL); the in-memory layer serves one worker." >&2
  exit 1
fi
echo "uvicorn: $workers worker(s), channel layer: $layer."
"$here/.venv/bin/uvicorn" config.asgi:application --host "$host" --port "$port" --ws-max-size 65536 \
  --workers "$workers"
