# Sourced by Scripts/sim-roll-compare.sh and Scripts/sim-roll-scale.sh: the start-up they share. Builds the debug
# `ballast` (its path in $ballast), makes a work directory ($work, removed with every background job on exit), sets
# an agent token, and defines
#   await_line FILE KEY   prints the value of the first KEY=value line of FILE (a server's announcement), waiting up
#                         to $await_seconds (default 120) for it
#   await_ready FILE      waits, as long, for a line starting with "ready" (a client script's first acknowledgement)
# Callers set $name (for messages) before sourcing.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --product ballast >&2
ballast=$PWD/.build/debug/ballast
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export BALLAST_AGENT_TOKEN="$name-$RANDOM$RANDOM"
await_seconds=${await_seconds:-120}

await_line() {
    for _ in $(seq 1 $((await_seconds * 10))); do
        if grep -q "^$2=" "$1" 2>/dev/null; then grep -m1 "^$2=" "$1" | cut -d= -f2-; return; fi
        sleep 0.1
    done
    echo "$name: no '$2=' line in $1 within $await_seconds s" >&2
    exit 1
}
await_ready() {
    for _ in $(seq 1 $((await_seconds * 10))); do grep -q '^ready' "$1" && return; sleep 0.1; done
    echo "$name: $1 was not ready within $await_seconds s" >&2
    exit 1
}
