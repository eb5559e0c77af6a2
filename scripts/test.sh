#!/usr/bin/env bash
#
# The one command behind `make test` (and .ci/run). From any cwd, on a fresh
# Debian 12 box as root or on a dev machine, it:
#   1. installs missing system packages (redis-server; chromium once browser tests exist),
#   2. makes the virtualenv (via `make venv`, so there is one definition of it),
#   3. installs the clients the protocol tests drive: npm (tests/package.json) and
#      Supabase's Python one (tests/realtime_py/requirements.txt, into a directory of its own),
#   4. starts throwaway PostgreSQL and Redis on free loopback ports,
#   5. checks lint and formatting (ruff) and that no migrations are missing,
#   6. runs pytest with "$@".
# The servers and their temp dir are removed on exit, whatever happens.
#
# Usage: scripts/test.sh [pytest args...]     e.g. scripts/test.sh -k harness -x
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/services.sh
source "$ROOT/scripts/lib/services.sh"

# ---------------------------------------------------------------- timing
_PHASE_NAME=""
_PHASE_T0=""
_TIMINGS=()
_RUN_T0="$EPOCHREALTIME"

_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

phase() {  # phase NAME: end the current phase (if any) and start NAME
    phase_end
    _PHASE_NAME="$1"
    _PHASE_T0="$EPOCHREALTIME"
    echo ">>> $1"
}

phase_end() {
    [[ -n "$_PHASE_NAME" ]] || return 0
    local dt
    dt="$(_elapsed "$_PHASE_T0")"
    _TIMINGS+=("$(printf '%8ss  %s' "$dt" "$_PHASE_NAME")")
    echo "<<< $_PHASE_NAME: ${dt}s"
    _PHASE_NAME=""
}

# --------------------------------------------------------------- cleanup
# On any exit (success, failure, set -e, Ctrl-C): stop the servers, delete the
# temp dir, print the timings. INT/TERM/HUP are turned into a normal exit so
# the EXIT trap runs exactly once.
on_exit() {
    local rc=$?
    phase_end
    if [[ -n "$ZORA_SVC_DIR" ]]; then
        echo ">>> stopping throwaway PostgreSQL and Redis"
        zora_services_stop
    fi
    echo "--- timings ---"
    local line
    for line in "${_TIMINGS[@]}"; do echo "$line"; done
    printf '%8ss  total\n' "$(_elapsed "$_RUN_T0")"
    if [[ $rc -eq 0 ]]; then echo "test.sh: OK"; else echo "test.sh: FAILED (exit $rc)" >&2; fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------- system packages
phase "system packages"
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Playwright drives the system Chromium, needed only once a test is marked `browser`.
if grep -rqs --include='test_*.py' 'mark.browser' "$ROOT" --exclude-dir=node_modules --exclude-dir=.venv; then
    [[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-dejavu-core)
fi
command -v make >/dev/null 2>&1 || missing+=(make)       # for `make venv` when called directly
# Debian's python3 ships without ensurepip until python3-venv is installed.
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
    if [[ $EUID -ne 0 ]]; then
        echo "missing system packages: ${missing[*]} (run as root, or install them yourself)" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
else
    echo "all present"
fi

# ------------------------------------------------------------ virtualenv
phase "python virtualenv"
make -C "$ROOT" --no-print-directory venv
# Put the venv first on PATH so tests that spawn `daphne`/`python` get the
# venv's, exactly as if it were activated.
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
PY="$VIRTUAL_ENV/bin/python"

# -------------------------------------------------------------- npm client
# The protocol tests run the real @supabase/realtime-js under Node. Reinstall
# only when node_modules is missing or older than the manifest/lockfile.
if [[ -f "$ROOT/tests/package.json" ]]; then
    phase "npm packages (tests/)"
    command -v npm >/dev/null 2>&1 || { echo "npm is not installed (need Node 20 + npm)" >&2; exit 1; }
    stamp="$ROOT/tests/node_modules/.zora-installed"
    if [[ -f "$ROOT/tests/package-lock.json" ]]; then
        if [[ ! -f "$stamp" || "$ROOT/tests/package-lock.json" -nt "$stamp" || "$ROOT/tests/package.json" -nt "$stamp" ]]; then
            (cd "$ROOT/tests" && npm ci --no-audit --no-fund)
            touch "$stamp"
        else
            echo "node_modules up to date"
        fi
    else
        if [[ ! -f "$stamp" || "$ROOT/tests/package.json" -nt "$stamp" ]]; then
            (cd "$ROOT/tests" && npm install --no-audit --no-fund)
            touch "$stamp"
        else
            echo "node_modules up to date"
        fi
    fi
fi

# ------------------------------------------------------- python client
# Supabase's Python client is also named `realtime`, like Zora's app, so it goes into a
# directory of its own that only its test driver puts on its path (tests/live/python_client.py).
phase "Supabase Python client (tests/realtime_py/)"
stamp="$ROOT/tests/realtime_py/packages/.zora-installed"
if [[ ! -f "$stamp" || "$ROOT/tests/realtime_py/requirements.txt" -nt "$stamp" ]]; then
    rm -rf "$ROOT/tests/realtime_py/packages"
    "$PY" -m pip install --quiet --target "$ROOT/tests/realtime_py/packages" -r "$ROOT/tests/realtime_py/requirements.txt"
    touch "$stamp"
else
    echo "packages up to date"
fi

# ---------------------------------------------------------------- servers
phase "start PostgreSQL + Redis"
zora_services_start
eval "$(zora_services_env)"   # exports DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ZORA_TEST_ENV
echo "DATABASE_URL=$DATABASE_URL"
echo "REDIS_URL=$REDIS_URL"

# ------------------------------------------------------------------ lint
phase "ruff check + format --check"
"$VIRTUAL_ENV/bin/ruff" check "$ROOT"
"$VIRTUAL_ENV/bin/ruff" format --check "$ROOT"

# ------------------------------------------------------------ migrations
phase "makemigrations --check"
if ! "$PY" manage.py makemigrations --check --dry-run; then
    echo "models and migrations are out of sync: run 'python manage.py makemigrations' and commit the result" >&2
    exit 1
fi

# ------------------------------------------------------------------ pytest
phase "pytest${*:+ $*}"
set +e
"$PY" -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    # Exit 5 = nothing collected: a typo'd -k or broken discovery must not pass.
    echo "pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$rc"
