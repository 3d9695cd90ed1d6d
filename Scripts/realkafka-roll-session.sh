#!/usr/bin/env bash
# One session of Scripts/realkafka-roll-compare.py on the real Kafka 4.1 harness, start to wipe, under its lock:
# starts the 6 nodes (1-3 broker+controller, 4-6 broker-only; racks a/b/c = {1,4}/{2,5}/{3,6}), one
# `ballast agent --driver process` whose restart of node N is `cluster.sh stop-node N && cluster.sh start-node N`,
# runs the compare (its flags are passed through: --scenarios, --modes, --repeat, …) on that one cluster, then
# stops the agent and the cluster and wipes the cluster's data. JSON lines go to stdout (and to --out if given).
#
#   RK_MIRROR=/path/to/mirror Scripts/realkafka-roll-session.sh --ballast .build/release/ballast --repeat 2
#
# Needs RK_MIRROR (shared/tools/realkafka/README.md) and Debian's python3-confluent-kafka. The harness's fixed
# ports allow one user at a time: this script holds /tmp/realkafka.lock from start to wipe.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cluster=${RK_CLUSTER:-$here/../../shared/tools/realkafka/cluster.sh}
[ -x "$cluster" ] || { echo "realkafka-roll-session: no harness at $cluster (set RK_CLUSTER)" >&2; exit 2; }
export RK_BROKERS=3
ballast=$here/../.build/release/ballast
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --ballast) ballast=${2:?}; args+=("$1" "$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
[ -x "$ballast" ] || { echo "realkafka-roll-session: no ballast binary at $ballast (--ballast)" >&2; exit 2; }
[ " ${args[*]-} " == *" --ballast "* ] || args+=(--ballast "$ballast")

exec 9>/tmp/realkafka.lock
flock 9
work=$(mktemp -d)
agent_pid=
compare_pid=
cleanup() {
    [ -n "$compare_pid" ] && kill "$compare_pid" 2>/dev/null || true
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
    "$cluster" stop >&2 || true
    "$cluster" wipe >&2 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# The controllers first, then the broker-only nodes: started all at once on a loaded 2-core host, a broker-only node
# can give up registering with a quorum that is still starting ("unable to register with the controller quorum").
start_cluster() {
    RK_BROKERS=0 "$cluster" start >&2 && for n in 4 5 6; do "$cluster" start-node "$n" >&2 || return 1; done
}
if ! start_cluster; then
    logs=${TMPDIR:-/tmp}/realkafka-roll-session-logs
    rm -rf "$logs" && cp -r "${TMPDIR:-/tmp}/realkafka/logs" "$logs" 2>/dev/null || true
    echo "realkafka-roll-session: the cluster did not start (node logs kept in $logs); once more" >&2
    "$cluster" stop >&2 || true
    "$cluster" wipe >&2
    start_cluster
fi
bootstrap=$("$cluster" bootstrap)

{
    echo "restartTimeoutSeconds: 600"
    echo "readyTimeoutSeconds: 300"
    echo "nodes:"
    for n in 1 2 3 4 5 6; do
        roles="[broker]"
        [ "$n" -le 3 ] && roles="[broker, controller]"
        racks=(rack-a rack-b rack-c)
        echo "  - id: $n"
        echo "    roles: $roles"
        echo "    zone: ${racks[$(((n - 1) % 3))]}"
        echo "    restart: \"$cluster stop-node $n && $cluster start-node $n\""
        echo "    ready: \"bash -c 'exec 3<>/dev/tcp/127.0.0.1/$((19091 + n))'\""
    done
} >"$work/agent.yaml"

export BALLAST_AGENT_TOKEN="rk-$RANDOM$RANDOM$RANDOM"
"$ballast" agent --driver process --config "$work/agent.yaml" --listen 127.0.0.1:0 --state-dir "$work/agent" \
    >"$work/agent.out" 2>"$work/agent.err" &
agent_pid=$!
agent_url=
for _ in $(seq 1 600); do
    agent_url=$(grep -m1 '^listening=' "$work/agent.out" 2>/dev/null | cut -d= -f2- || true)
    [ -n "$agent_url" ] && break
    kill -0 "$agent_pid" 2>/dev/null || { cat "$work/agent.err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$agent_url" ] || { echo "realkafka-roll-session: the agent did not listen within 60 s" >&2; exit 1; }
echo "realkafka-roll-session: cluster $bootstrap, agent $agent_url" >&2

# In the background, so that a TERM to this script stops it and still stops and wipes the cluster.
/usr/bin/python3 "$here/realkafka-roll-compare.py" --bootstrap "$bootstrap" --agent "$agent_url" "${args[@]}" &
compare_pid=$!
wait "$compare_pid"
