#!/usr/bin/env bash
#
# Throwaway PostgreSQL + Redis for hacking, the same ones `make test` uses
# (scripts/lib/services.sh). Runs in the foreground: it prints the `export`
# lines on stdout (everything else goes to stderr), writes them to a file you
# can `source` from other shells, and stops/deletes everything on Ctrl-C.
#
#   terminal 1:  scripts/devenv.sh
#   terminal 2:  source /tmp/zora-services.XXXXXX/env && .venv/bin/python -m pytest -k foo
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/services.sh
source "$ROOT/scripts/lib/services.sh"

sleeper=""
cleanup() {
    [[ -z "$sleeper" ]] || kill "$sleeper" 2>/dev/null || true
    zora_services_stop
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

zora_services_start
env_file="$ZORA_SVC_DIR/env"
(umask 077 && zora_services_env >"$env_file")  # holds SECRET_KEY

cat "$env_file"
{
    echo ""
    echo "# Same environment as 'make test'. In another shell:"
    echo "#   source $env_file"
    echo "# Ctrl-C here stops both servers and deletes $ZORA_SVC_DIR."
} >&2

# Wait for a signal. `sleep` in the background + `wait` lets the traps run
# immediately instead of after sleep returns.
sleep infinity &
sleeper=$!
wait "$sleeper"
