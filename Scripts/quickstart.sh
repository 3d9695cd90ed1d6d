#!/bin/bash
# Ballast's main job on a simulated cluster, start to finish: KafkaSim runs a 9-broker Kafka cluster stretched
# over three Kubernetes clusters (3 racks, RF 3, min ISR 2, replication throttled by the cluster's catch-up rate);
# a sim-driver agent manages its pods; Ballast describes the cluster, classifies a config change, plans
# placement, drains one broker (a throttled reassignment, throttles restored after), then rolls every broker in the
# largest batches the live cluster proves safe.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product ballast >&2
ballast=$PWD/.build/debug/ballast
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export BALLAST_AGENT_TOKEN="quickstart-$RANDOM$RANDOM"

# Waits until FILE has a line KEY=VALUE and prints VALUE.
await_line() {
    local file=$1 key=$2
    for _ in $(seq 1 300); do
        if grep -q "^$key=" "$file" 2>/dev/null; then grep -m1 "^$key=" "$file" | cut -d= -f2-; return; fi
        sleep 0.1
    done
    echo "quickstart: no '$key=' line from $(basename "$file" .out) within 30 s:" >&2
    cat "${file%.out}.err" >&2
    exit 1
}

"$ballast" sim --brokers 9 --racks 3 --clusters 3 --topics 8 --partitions 12 --replication-factor 3 --min-isr 2 \
    --port 0 --control-port 0 --time-scale 10 >"$work/sim.out" 2>"$work/sim.err" &
bootstrap=$(await_line "$work/sim.out" bootstrap)
control=$(await_line "$work/sim.out" control)
"$ballast" agent --driver sim --sim-control "$control" --listen 127.0.0.1:0 --state-dir "$work/agent" >"$work/agent.out" 2>"$work/agent.err" &
agent=$(await_line "$work/agent.out" listening)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "ballast describe --bootstrap $bootstrap"
"$ballast" describe --bootstrap "$bootstrap"

step "ballast config plan: raise log retention and I/O threads (live), stop topic auto-creation (restart)"
printf 'log.retention.ms=259200000\nnum.io.threads=12\nauto.create.topics.enable=false\n' >"$work/desired.properties"
"$ballast" config plan --bootstrap "$bootstrap" --desired "$work/desired.properties"

step "ballast plan --bootstrap (rebalance proposal, nothing executed)"
"$ballast" plan --bootstrap "$bootstrap"

step "ballast rebalance --mode remove-brokers --brokers 9 --execute: drain broker 9 under a 5 MB/s throttle"
"$ballast" rebalance --bootstrap "$bootstrap" --mode remove-brokers --brokers 9 --execute --throttle 5000000 \
    --state-dir "$work/state"

step "ballast roll --dry-run: the batches the live cluster allows, and why the other nodes wait"
"$ballast" roll --bootstrap "$bootstrap" --agent "$agent" --state-dir "$work/state" --dry-run

step "ballast roll: restart every broker, batch by batch, waiting for catch-up and restoring leaders"
"$ballast" roll --bootstrap "$bootstrap" --agent "$agent" --state-dir "$work/state"

step "simulator stats: produce errors and partitions under min ISR / offline during the roll"
curl -sf "$control/v1/stats" | head -c 2000
echo
