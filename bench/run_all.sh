#!/usr/bin/env bash
# Runs every benchmark of bench/ and writes bench/results/results-<UTC stamp>.{json,md}.
#
# Installs what is missing first: tmux, lnav and ripgrep from Debian (apt-get,
# as root or through sudo), Toolong from PyPI into its own venv
# (bench/.work/toolong-venv, never the project's), and with BENCH_PROFILE=1
# py-spy into bench/.work/prof-venv. Builds the workspace once into
# bench/.work/ws (reused while its parameters match). A script that fails is
# reported and the others still run; the exit status is then 1.
#
# Settings (environment):
#   PYTHON               the project's Python (default: python3 on PATH; it must import oos_tui)
#   BENCH_LINES          lines of oos.log (default 2000000)
#   BENCH_RUNS           runs per measurement (default 3)
#   BENCH_FOLLOW_SECONDS writing time per follow run (default 20)
#   BENCH_SOAK_MINUTES   following time for the memory soak (default 10; the target is 60)
#   BENCH_IDLE_SECONDS   observation time per tool for the idle cost (default 30)
#   BENCH_PROFILE=1      also profile oos-tui's first screen with py-spy
#   BENCH_QUICK=1        a tiny workspace and one short run of everything (checks the harness)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

PYTHON="${PYTHON:-python3}"
LINES_N="${BENCH_LINES:-2000000}"
RUNS="${BENCH_RUNS:-3}"
FOLLOW_SECONDS="${BENCH_FOLLOW_SECONDS:-20}"
SOAK_MINUTES="${BENCH_SOAK_MINUTES:-10}"
IDLE_SECONDS="${BENCH_IDLE_SECONDS:-30}"
WS="bench/.work/ws"
SMOKE=()
WS_ARGS=(--lines "$LINES_N")
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    SMOKE=(--smoke)
    WS="bench/.work/ws-quick"
    WS_ARGS=(--lines 20000 --tasks 2000 --dead 200 --jobs 10 --store-events 500)
fi

if ! "$PYTHON" -c 'import oos_tui' 2>/dev/null; then
    echo "run_all.sh: $PYTHON cannot import oos_tui; set PYTHON to the project's venv python" >&2
    exit 2
fi

as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi
}

install_tools() {
    local missing=()
    command -v tmux >/dev/null || missing+=(tmux)
    command -v lnav >/dev/null || missing+=(lnav)
    command -v rg >/dev/null || missing+=(ripgrep)
    if ((${#missing[@]})); then
        echo "installing ${missing[*]} (apt-get)"
        as_root apt-get update -qq
        as_root apt-get install -y -qq "${missing[@]}"
    fi
    if [[ ! -x bench/.work/toolong-venv/bin/tl ]]; then
        echo "installing Toolong into bench/.work/toolong-venv"
        mkdir -p bench/.work
        python3 -m venv bench/.work/toolong-venv
        bench/.work/toolong-venv/bin/pip install -q toolong
    fi
    if [[ "${BENCH_PROFILE:-0}" == 1 && ! -x bench/.work/prof-venv/bin/py-spy ]]; then
        echo "installing py-spy into bench/.work/prof-venv"
        python3 -m venv bench/.work/prof-venv
        bench/.work/prof-venv/bin/pip install -q py-spy
    fi
}

install_tools

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="bench/results/$stamp"
mkdir -p "$out"
failed=()

step() {
    local name="$1"
    shift
    echo
    echo "== $name ($(uptime | sed 's/.*load/load/'))"
    if ! "$@" 2>&1 | tee "$out/$name.log"; then
        echo "!! $name failed (see $out/$name.log)"
        failed+=("$name")
    fi
}

"$PYTHON" bench/make_workspace.py --out "$WS" "${WS_ARGS[@]}"
"$PYTHON" bench/common.py meta "$out/meta.json" --workspace "$WS" >/dev/null

common=(--workspace "$WS" --runs "$RUNS" "${SMOKE[@]}")
parse_lines=200000
[[ "${BENCH_QUICK:-0}" == 1 ]] && parse_lines=5000
parse_json() {
    "$PYTHON" bench/parse_throughput.py --lines "$parse_lines" --runs "$RUNS" --json \
        >"$out/parse_throughput.json" && cat "$out/parse_throughput.json"
}
step parse_throughput parse_json
profile=()
[[ "${BENCH_PROFILE:-0}" == 1 ]] && profile=(--profile "$out/profiles")
step first_screen "$PYTHON" bench/first_screen.py "${common[@]}" "${profile[@]}" \
    --json-out "$out/first_screen.json"
step search_times "$PYTHON" bench/search_times.py "${common[@]}" --json-out "$out/search_times.json"
step follow_latency "$PYTHON" bench/follow_latency.py "${common[@]}" --seconds "$FOLLOW_SECONDS" \
    --json-out "$out/follow_latency.json"
step memory "$PYTHON" bench/memory.py "${common[@]}" --soak-minutes "$SOAK_MINUTES" \
    --json-out "$out/memory.json"
step idle_cost "$PYTHON" bench/idle_cost.py "${common[@]}" --seconds "$IDLE_SECONDS" \
    --json-out "$out/idle_cost.json"
step action_latency "$PYTHON" bench/action_latency.py "${common[@]}" \
    --json-out "$out/action_latency.json"

echo
"$PYTHON" bench/common.py report "$out"
if ((${#failed[@]})); then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
