#!/usr/bin/env bash
# The roller at scale (issue #15, "Scale"): a simulated 60-broker cluster over 3 racks, with data and writes on every
# broker so that catch-up takes real time, rolled twice in one run under the real acks=all client
# (Scripts/acks-all-producer.py, retries off): first carefully (`ballast roll --max-batch 1`: one broker at a time,
# each waiting for its replicas back in sync), then with Ballast's defaults. Prints each roll's cluster time and wall
# time, its batches, the ratio, and the client's and the simulator's failure counts.
#
# Usage: Scripts/sim-roll-scale.sh [--time-scale N] [--brokers N] [--startup-delay-ms MS] [--poll S]
#   The model (written to a temporary file): 20 topics × 30 partitions, RF 3, min ISR 2, rack-aware; each partition
#   holds 200 MB and takes 40 KB/s of background writes (24 MB/s in all, ~1.2 MB/s of replica writes per broker);
#   replication into one broker is limited to 20 MB/s (--replication-rate); a broker takes 30 s of cluster time to
#   start (--startup-delay-ms) and 4.5 s to shut down. Needs /usr/bin/python3 with confluent-kafka.
set -euo pipefail
scale=10
brokers=60
# The roller polls on wall time: at time scale 10 a 0.2 s poll is 2 s of cluster time, the default poll of a real roll.
poll=0.2
startup=30000
while [ $# -gt 0 ]; do
    case "$1" in
        --time-scale) scale=${2:?}; shift 2 ;;
        --brokers) brokers=${2:?}; shift 2 ;;
        --startup-delay-ms) startup=${2:?}; shift 2 ;;
        --poll) poll=${2:?}; shift 2 ;;
        *) echo "sim-roll-scale: unknown option $1" >&2; exit 2 ;;
    esac
done
name=sim-roll-scale
# shellcheck source=sim-roll-common.sh
source "$(dirname "$0")/sim-roll-common.sh"

/usr/bin/python3 - "$brokers" >"$work/model.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
racks = 3
brokers = [{"id": i, "rack": f"r{(i - 1) % racks}"} for i in range(1, n + 1)]
topics = []
k = 0
for t in range(20):
    parts = []
    for p in range(30):
        # Consecutive brokers: ids i, i+1, i+2 are in three different racks (rack-aware placement).
        first = k % n
        replicas = [(first + j) % n + 1 for j in range(3)]
        k += 1
        parts.append({"id": p, "replicas": replicas, "load": {"disk": 200, "networkIn": 40}})
    topics.append({"name": f"data-{t}", "minInSyncReplicas": 2, "partitions": parts})
# The real client's topic: 18 partitions spread the same way.
parts = [{"id": p, "replicas": [(p * 3 + j) % n + 1 for j in range(3)]} for p in range(18)]
topics.append({"name": "client", "minInSyncReplicas": 2, "partitions": parts})
print(json.dumps({"brokers": brokers, "topics": topics}))
EOF

"$ballast" sim --model "$work/model.json" --port 0 --control-port 0 --time-scale "$scale" \
    --startup-delay-ms "$startup" --replication-rate 20000000 >"$work/sim.out" 2>"$work/sim.err" &
bootstrap=$(await_line "$work/sim.out" bootstrap)
control=$(await_line "$work/sim.out" control)
/usr/bin/python3 Scripts/acks-all-producer.py --bootstrap "$bootstrap" --topics client --rate 300 \
    --value-bytes 1000 >"$work/producer.out" 2>/dev/null &
producer=$!
await_ready "$work/producer.out"
sleep 2

stats() { curl -sf "$control/v1/stats"; }
cluster_ms() { stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['timeMs'])"; }

roll() { # name, extra flags...
    local name=$1
    shift
    # One agent per roll, with its own state directory.
    "$ballast" agent --driver sim --sim-control "$control" --listen 127.0.0.1:0 --state-dir "$work/agent-$name" \
        >"$work/agent-$name.out" 2>"$work/agent-$name.err" &
    local agent
    agent=$(await_line "$work/agent-$name.out" listening)
    local t0 w0
    t0=$(cluster_ms)
    w0=$(date +%s.%N)
    "$ballast" roll --bootstrap "$bootstrap" --agent "$agent" --state-dir "$work/state-$name" --json --poll "$poll" "$@" \
        >"$work/roll-$name.out" 2>"$work/roll-$name.err" || {
        echo "$name roll failed: $(tail -2 "$work/roll-$name.err")"
        echo "agent: $(tail -5 "$work/agent-$name.err")"
        cp "$work/roll-$name.out" "/tmp/sim-roll-scale-$name.out" 2>/dev/null || true
        exit 1
    }
    local t1 w1
    t1=$(cluster_ms)
    w1=$(date +%s.%N)
    local cluster_s wall_s
    cluster_s=$(echo "($t1 - $t0) / 1000" | bc -l)
    wall_s=$(echo "$w1 - $w0" | bc -l)
    printf '%s: %d batches, %.1f s of cluster time (%.1f s wall at time scale %s), sized by prediction %d time(s)\n' \
        "$name" "$(grep -c '"batchStarted"' "$work/roll-$name.out")" "$cluster_s" "$wall_s" "$scale" \
        "$(grep -c '"batchSized"' "$work/roll-$name.out" || true)"
    echo "$cluster_s" >"$work/$name.seconds"
    cp "$work/roll-$name.out" "/tmp/sim-roll-scale-$name.out"
}

roll careful --max-batch 1
roll ballast
printf 'ballast / careful (cluster time): %.3f\n' \
    "$(echo "$(cat "$work/ballast.seconds") / $(cat "$work/careful.seconds")" | bc -l)"
sleep 2
kill -TERM "$producer"
wait "$producer" || true
echo "producer: $(tail -1 "$work/producer.out")"
echo "simulator: $(stats | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d.get(k) for k in ('produce', 'underMinIsr', 'offline')}))")"
