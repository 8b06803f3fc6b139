#!/usr/bin/env bash
# Prints the path of a Python 3.11 that can create virtual environments, installing Debian's python3.11
# and python3.11-venv first when there is none (as root). Used by the Makefile before it creates .venv.
set -euo pipefail

find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  command -v python3.11 2>/dev/null && return
  if python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then command -v python3; fi
}

usable() { [ -n "$1" ] && "$1" -c 'import ensurepip, venv' 2>/dev/null; }

py=$(find_python || true)
if ! usable "$py"; then
  "$(dirname "$0")/ensure-system.sh" python3.11 python3.11-venv >&2
  py=$(find_python || true)
fi
usable "$py" || { echo "ensure-python: no Python 3.11 with venv; install python3.11 and python3.11-venv" >&2; exit 1; }
echo "$py"
