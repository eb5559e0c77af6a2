#!/usr/bin/env bash
#
# `make bench`: Zora's benchmarks against a throwaway PostgreSQL + Redis.
#
#   bench/run.sh [--profile quick|full] [--scenario NAME ...] [--out docs/performance.md]
#
# Starts both servers on free loopback ports (the same code as `make test`),
# migrates a fresh database, runs bench/run.py with the arguments given,
# and removes the servers and their data on exit, whatever happens.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"

trap zora_services_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

zora_services_start
eval "$(zora_services_env)"
unset ZORA_TEST_ENV
export PATH="$ROOT/.venv/bin:$PATH"
"$ROOT/.venv/bin/python" -m bench.run --migrate "$@"
