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

# Media: the SFU when Janus and coturn are installed (or MEDIA=sfu), else the peer-to-peer mesh (MEDIA=mesh
# forces it). The project writes their configuration with fresh secrets (var/media, manage.py media_config)
# and runs them here; Janus needs a non-loopback address for ICE: this machine's address towards its default
# route (JANUS_ICE_ADDRESS overrides it). Browsers see which path the room uses in welcome.media.mode.
media=${MEDIA:-}
if [ -z "$media" ] && command -v janus >/dev/null && command -v turnserver >/dev/null; then media=sfu; fi
if [ "$media" = sfu ]; then
  addr=${JANUS_ICE_ADDRESS:-$(ip -4 route get 192.0.2.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}')}
  if [ -z "$addr" ] || ! command -v janus >/dev/null || ! command -v turnserver >/dev/null; then
    echo "Media: no Janus/coturn or no non-loopback address; the rooms use the peer-to-peer mesh."
    media=mesh
  else
    "$py" "$here/manage.py" media_config --out "$here/var/media" --ice-address "$addr" >/dev/null
    set -a; . "$here/var/media/media.env"; set +a
    janus -F "$here/var/media/janus" -C "$here/var/media/janus/janus.jcfg" -L "$here/var/media/janus.log" \
      >/dev/null 2>&1 & pids+=($!)
    turnserver -c "$here/var/media/turnserver.conf" >/dev/null 2>&1 & pids+=($!)
    echo "Media: Janus (SFU, ICE on $addr, var/media/janus.log) and coturn (var/media/turnserver.log)."
  fi
fi
export MEDIA=$media

"$py" "$here/manage.py" deliver_outbox --loop 5 >>"$here/var/outbox.log" 2>&1 & pids+=($!)
"$py" "$here/manage.py" sweep_timers --loop 60 >>"$here/var/sweep.log" 2>&1 & pids+=($!)
echo "Background: outbox delivery (var/outbox.log) and the legal-clock sweep (var/sweep.log)."
"$here/.venv/bin/uvicorn" config.asgi:application --host "$host" --port "$port" --ws-max-size 65536
