# shellcheck shell=bash disable=SC2034
# lib.sh - what `run` and `count` share: paths, the two servers' commands, starting and
# stopping them by PID, and reading a process tree's CPU time. Sourced, never run.
#
# Every process a script starts through start_server is recorded, and stop_all (installed as
# the EXIT trap by both scripts) stops each of them and its descendants by PID: first TERM,
# then KILL for whatever is still there a few seconds later.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$HERE/build
REFERENCE=$BUILD/reference

# The Python our server runs on: $PYTHON, else the repository's .venv (scripts/install-test-deps
# makes it), else python3. load.py runs on python3 (any Python 3 will do for it).
if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then
    PY=$ROOT/.venv/bin/python
else
    PY=$(command -v python3)
fi
LOADPY=(python3 "$HERE/load.py")

# Our server's command, the port is appended. OURS_CMD replaces it (a stand-in while the server
# is not importable, or a peer: any command that takes the port as its last argument).
if [ -n "${OURS_CMD:-}" ]; then
    read -r -a OURS <<<"$OURS_CMD"
else
    OURS=("$PY" "$HERE/hello_japronto.py")
fi
OURS_NAME=${OURS_NAME:-japronto}

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
CLK_TCK=$(getconf CLK_TCK)

STARTED_PIDS=()

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# Builds the reference server with -O2 if it is missing or older than its source.
build_reference() {
    if [ ! -x "$REFERENCE" ] || [ "$HERE/reference.c" -nt "$REFERENCE" ]; then
        mkdir -p "$BUILD"
        ${CC:-cc} -O2 -Wall -Wextra -o "$REFERENCE" "$HERE/reference.c" ||
            die "cannot build $REFERENCE"
    fi
}

# Checks that our server's default command can import the library, with a useful message.
check_ours_importable() {
    [ -n "${OURS_CMD:-}" ] && return 0
    "$PY" -c 'from japronto import Application' 2>/dev/null ||
        die "$PY cannot import japronto.Application (run 'bash scripts/install-test-deps', set
    PYTHON to an interpreter that has it, or OURS_CMD to another server command)"
}

# A free TCP port on the loopback (the kernel's choice; another process could take it before
# the server binds, in which case the server exits and wait_accepting says so).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server LOGFILE CMD...: starts CMD in the background, pinned to $SERVER_CPU, and sets
# SERVER_PID. taskset (and env, valgrind) exec what they run, so the PID is the server's own.
start_server() {
    local log=$1
    shift
    taskset -c "$SERVER_CPU" "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
}

# wait_accepting PORT PID TIMEOUT_S LOGFILE: waits until something accepts on PORT, and fails
# loudly if the server died or the time ran out.
wait_accepting() {
    local port=$1 pid=$2 timeout=$3 log=$4 waited=0
    while :; do
        kill -0 "$pid" 2>/dev/null || {
            echo "--- server log ($log):" >&2
            tail -n 30 "$log" >&2
            die "server PID $pid exited before accepting on port $port"
        }
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        waited=$((waited + 1))
        [ "$waited" -lt $((timeout * 10)) ] || die "server PID $pid not accepting on port $port after ${timeout}s"
    done
}

# The PID and every descendant of it, one a line.
tree_pids() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            print root; want[root] = 1
            do {
                grew = 0
                for (i = 1; i <= NR; i++) {
                    p = pids[i]
                    if (!(p in want) && (parent[p] in want)) { want[p] = 1; print p; grew = 1 }
                }
            } while (grew)
        }'
}

# utime+stime of one process (all its threads), in clock ticks; 0 if it is gone.
# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
pid_ticks() {
    local line
    line=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    line=${line##*) }
    # shellcheck disable=SC2086
    set -- $line
    echo $((${12} + ${13}))
}

# "PID TICKS" for the process tree under a PID, one a line.
tree_ticks() {
    local p
    for p in $(tree_pids "$1"); do
        echo "$p $(pid_ticks "$p")"
    done
}

# Sum of utime+stime over the process tree, in clock ticks (covers a server that forks its
# worker, as Japronto's app.run did).
tree_ticks_sum() {
    tree_ticks "$1" | awk '{ s += $2 } END { print s + 0 }'
}

# "PID NANOSECONDS" on CPU for the process tree under a PID, one a line: the first field of
# /proc/PID/schedstat (the main thread's run time, in ns), else utime+stime in ns. Finer than
# clock ticks, so that even a short warm-up tells the processes apart.
tree_runtime() {
    local p ns
    for p in $(tree_pids "$1"); do
        if read -r ns _ <"/proc/$p/schedstat" 2>/dev/null; then
            echo "$p $ns"
        else
            echo "$p $(($(pid_ticks "$p") * 1000000000 / CLK_TCK))"
        fi
    done
}

# serving_pid BEFORE AFTER: given two tree_runtime snapshots taken around some load, the PID
# that did the work (the forked worker in a master/worker server, else the server itself).
# Prints nothing if no process of the tree ran at all.
serving_pid() {
    awk 'NR == FNR { before[$1] = $2; next }
         { d = $2 - before[$1]; if (d > bestd) { best = $1; bestd = d } }
         END { if (best != "") print best }' <(echo "$1") <(echo "$2")
}

# Stops one server and its descendants, by PID: TERM to the server, then KILL to any of them
# still alive after 5 s.
stop_server() {
    local pid=$1 kids i p
    kids=$(tree_pids "$pid" 2>/dev/null | tail -n +2)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    for p in $pid $kids; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    wait "$pid" 2>/dev/null || true
    local left=()
    for p in "${STARTED_PIDS[@]}"; do
        [ "$p" = "$pid" ] || left+=("$p")
    done
    STARTED_PIDS=("${left[@]}")
}

stop_all() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        stop_server "$pid"
    done
}

# One line each, for the method section.
describe_machine() {
    local cpu gov
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    gov=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo "n/a")
    echo "- CPU: $cpu, $(nproc) logical CPUs online; governor: $gov"
    echo "- kernel: $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Python for our server: $("$PY" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null) ($PY)"
    echo "- uvloop: $("$PY" -c 'import uvloop; print(uvloop.__version__)' 2>/dev/null || echo 'not installed')"
    echo "- japronto: $("$PY" -c 'import japronto; print(japronto.__version__, "parser", japronto.simd_path())' 2>/dev/null || echo 'not importable'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ local changes)')"
    echo "- JAPRONTO_LOOP: ${JAPRONTO_LOOP:-unset (library default)}"
    echo "- our server: \`${OURS[*]} PORT\`"
    echo "- reference: \`$REFERENCE PORT\`, built with \`${CC:-cc} -O2\` ($(${CC:-cc} --version | head -n1))"
}
