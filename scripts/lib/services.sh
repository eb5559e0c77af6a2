# shellcheck shell=bash
#
# Throwaway PostgreSQL + Redis for the test suite (scripts/test.sh) and for
# engineers (scripts/devenv.sh). Sourced, never executed. One copy of this logic
# so the two scripts cannot drift apart.
#
#   zora_services_start   make a temp dir, start both servers on free loopback
#                         ports, create the `zora` database. Sets ZORA_SVC_DIR,
#                         ZORA_PG_PORT, ZORA_REDIS_PORT.
#   zora_services_env     print the `export ...` lines pointing Zora at them.
#   zora_services_stop    stop both servers and delete the temp dir. Idempotent,
#                         safe to call from a trap at any point of a start.
#
# The fault tests (tests/live/services.py) take the servers of a running session
# down and bring them back on the same ports, as an outage and a restart would:
#   zora_redis_down DIR          stop Redis (its data goes: nothing is persisted)
#   zora_redis_up DIR PORT       start an empty Redis on PORT again
#   zora_pg_down DIR             stop PostgreSQL in immediate mode, as a crash does
#   zora_pg_up DIR PORT          start it again on PORT; it recovers from its WAL
# DIR is the temp dir, which zora_services_env exports as ZORA_SERVICES_DIR.
#
# Both servers listen on 127.0.0.1 only, on ports the kernel says are free, so
# several runs (and the long-lived dev servers on 55432/56379) never collide.
# Nothing is durable: fsync off, no RDB/AOF; the data dies with the temp dir.

ZORA_SVC_DIR="${ZORA_SVC_DIR:-}"
ZORA_PG_PORT="${ZORA_PG_PORT:-}"
ZORA_REDIS_PORT="${ZORA_REDIS_PORT:-}"
ZORA_PG_BIN="${ZORA_PG_BIN:-}"
_ZORA_REDIS_PID=""

_zora_svc_log() { echo "[services] $*" >&2; }

# Where initdb/pg_ctl/postgres live. Debian keeps them off PATH under
# /usr/lib/postgresql/<major>/bin; PG_BIN overrides, PATH is the last resort.
zora_pg_bindir() {
    local candidate
    if [[ -n "${PG_BIN:-}" ]]; then
        echo "$PG_BIN"
        return 0
    fi
    # Newest major first (sort -V handles 9.6 < 15 < 16).
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    _zora_svc_log "PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN"
    return 1
}

# Ask the kernel for a currently unused loopback port. There is a small window
# between closing this socket and the server binding it, hence the retries in
# the start functions below.
zora_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# PostgreSQL refuses to run as root, so when we are root every PostgreSQL binary
# runs as the `postgres` system user. We cd into the temp dir first because
# postgres cannot necessarily read the caller's cwd (e.g. /root).
_zora_as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd "$ZORA_SVC_DIR" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

_zora_pg_start() {
    local pgdir="$ZORA_SVC_DIR/pg" attempt port
    mkdir -p "$pgdir"
    if [[ $EUID -eq 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            _zora_svc_log "running as root but there is no 'postgres' user to run PostgreSQL as"
            return 1
        fi
        chown postgres: "$pgdir"
        # The postgres user must be able to reach the data dir through every parent.
        if ! runuser -u postgres -- test -w "$pgdir"; then
            _zora_svc_log "user postgres cannot write $pgdir; set TMPDIR to a world-traversable directory"
            return 1
        fi
    fi

    # --no-sync and trust auth: it is a throwaway cluster on loopback.
    if ! _zora_as_pg "$ZORA_PG_BIN/initdb" -D "$pgdir/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >"$pgdir/initdb.log" 2>&1; then
        _zora_svc_log "initdb failed:"
        cat "$pgdir/initdb.log" >&2
        return 1
    fi
    # Unix socket inside the temp dir: never touches /var/run/postgresql or the
    # system cluster. max_connections is high because live-server tests open
    # many connections (daphne workers + test client + threads).
    cat >>"$pgdir/data/postgresql.conf" <<EOF

# --- zora throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pgdir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    for attempt in 1 2 3; do
        port="$(zora_free_port)"
        if _zora_pg_ctl_start "$port"; then
            ZORA_PG_PORT="$port"
            break
        fi
        _zora_svc_log "PostgreSQL did not start on port $port (attempt $attempt)"
        tail -n 20 "$pgdir/server.log" >&2 || true
    done
    [[ -n "$ZORA_PG_PORT" ]] || return 1

    "$ZORA_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$ZORA_PG_PORT" -t 30 || {
        _zora_svc_log "PostgreSQL on port $ZORA_PG_PORT does not answer pg_isready"
        return 1
    }
    # The database DATABASE_URL names (pytest-django then creates test_zora).
    "$ZORA_PG_BIN/createdb" -h 127.0.0.1 -p "$ZORA_PG_PORT" -U postgres zora
}

# The port goes on the command line (not the conf) so a retry can pick another
# one. -w waits until the server accepts connections.
_zora_pg_ctl_start() {
    _zora_as_pg "$ZORA_PG_BIN/pg_ctl" -D "$ZORA_SVC_DIR/pg/data" -l "$ZORA_SVC_DIR/pg/server.log" \
        -o "-p $1" -w -t 60 start >/dev/null
}

# Foreground mode in a background job: we keep its pid directly (also in
# redis.pid, which zora_services_stop reads), and a bind failure shows up as the
# process dying (with --daemonize yes the parent exits 0 before binding). Output
# goes to a file so redis never holds the caller's stdout open (e.g. `make test | tee`).
_zora_redis_spawn() {
    local rdir="$ZORA_SVC_DIR/redis" port="$1"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --daemonize no --dir "$rdir" --logfile "" >>"$rdir/redis.log" 2>&1 </dev/null &
    _ZORA_REDIS_PID=$!
    echo "$_ZORA_REDIS_PID" >"$rdir/redis.pid"
}

# Waits until Redis answers on port $1 while its process lives.
_zora_redis_wait() {
    local i
    for i in $(seq 1 100); do
        kill -0 "$_ZORA_REDIS_PID" 2>/dev/null || return 1
        [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == "PONG" ]] && return 0
        sleep 0.1
    done
    return 1
}

_zora_redis_start() {
    local rdir="$ZORA_SVC_DIR/redis" attempt port
    mkdir -p "$rdir"
    for attempt in 1 2 3; do
        port="$(zora_free_port)"
        _zora_redis_spawn "$port"
        if _zora_redis_wait "$port"; then
            ZORA_REDIS_PORT="$port"
            return 0
        fi
        _zora_svc_log "Redis did not start on port $port (attempt $attempt)"
        tail -n 20 "$rdir/redis.log" >&2 || true
        kill "$_ZORA_REDIS_PID" 2>/dev/null || true
        wait "$_ZORA_REDIS_PID" 2>/dev/null || true
        _ZORA_REDIS_PID=""
    done
    return 1
}

zora_services_start() {
    ZORA_PG_BIN="$(zora_pg_bindir)" || return 1
    command -v redis-server >/dev/null || { _zora_svc_log "redis-server not installed"; return 1; }
    command -v redis-cli >/dev/null || { _zora_svc_log "redis-cli not installed"; return 1; }

    ZORA_SVC_DIR="$(mktemp -d "${TMPDIR:-/tmp}/zora-services.XXXXXX")"
    # mktemp makes it 0700; the postgres user (when we are root) needs to
    # traverse it to reach its own data dir inside.
    chmod 0755 "$ZORA_SVC_DIR"

    _zora_pg_start || return 1
    _zora_redis_start || return 1
    _zora_svc_log "PostgreSQL $("$ZORA_PG_BIN/postgres" --version | sed -n 's/.*(PostgreSQL) \([0-9.]*\).*/\1/p') on 127.0.0.1:$ZORA_PG_PORT," \
        "Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$ZORA_REDIS_PORT," \
        "data in $ZORA_SVC_DIR"
}

# SIGTERM, then SIGKILL after 5 s; returns once the process is gone.
_zora_redis_kill() {
    local pid="$1" i
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

zora_redis_down() {
    _zora_redis_kill "$(cat "$1/redis/redis.pid")"
}

# The new process outlives the caller (a test's subshell); redis.pid names it for zora_services_stop.
zora_redis_up() {
    ZORA_SVC_DIR="$1"
    _zora_redis_spawn "$2"
    _zora_redis_wait "$2" || { _zora_svc_log "Redis did not come back on port $2"; return 1; }
}

zora_pg_down() {
    ZORA_SVC_DIR="$1"
    ZORA_PG_BIN="$(zora_pg_bindir)" || return 1
    _zora_as_pg "$ZORA_PG_BIN/pg_ctl" -D "$1/pg/data" -m immediate -w -t 30 stop >/dev/null
}

zora_pg_up() {
    ZORA_SVC_DIR="$1"
    ZORA_PG_BIN="$(zora_pg_bindir)" || return 1
    _zora_pg_ctl_start "$2"
}

# The environment that points Zora at the throwaway servers, as shell code.
# A fresh random SECRET_KEY each run: DEBUG=false makes settings insist on one.
zora_services_env() {
    local secret
    secret="$(python3 -c 'import secrets, string
alphabet = string.ascii_letters + string.digits
print("".join(secrets.choice(alphabet) for _ in range(50)))')"
    cat <<EOF
export DATABASE_URL='postgres://postgres@127.0.0.1:$ZORA_PG_PORT/zora'
export REDIS_URL='redis://127.0.0.1:$ZORA_REDIS_PORT/0'
export SECRET_KEY='$secret'
export DEBUG='false'
export ZORA_TEST_ENV='1'
export ZORA_SERVICES_DIR='$ZORA_SVC_DIR'
EOF
}

zora_services_stop() {
    local dir="$ZORA_SVC_DIR" pid
    [[ -n "$dir" ]] || return 0
    ZORA_SVC_DIR=""  # idempotent: a second call (INT trap then EXIT trap) is a no-op

    # Immediate mode: no checkpoint, the data is about to be deleted anyway.
    if [[ -f "$dir/pg/data/postmaster.pid" ]]; then
        (zora_pg_down "$dir" 2>/dev/null) || _zora_svc_log "pg_ctl stop failed; server may linger"
    fi

    # The pid this shell started, and the one in redis.pid if a fault test restarted Redis since.
    for pid in "$_ZORA_REDIS_PID" "$(cat "$dir/redis/redis.pid" 2>/dev/null)"; do
        _zora_redis_kill "$pid"
    done
    _ZORA_REDIS_PID=""

    rm -rf "$dir"
}
