#!/usr/bin/env bash
# What a consumer group sees when its coordinator's broker stops (controlled shutdown) and comes back: a group of
# three (Scripts/group-consumer.py) reads a steady idempotent producer (100 messages/s); the broker coordinating the
# group (from kafka-consumer-groups.sh --describe --state) is stopped for 15 s, then started. Prints the clients'
# summaries: assignments (3 = no rebalance), the longest time a partition delivered nothing, and whether every
# acknowledged message was read.
# Usage: Scripts/coordinator-move.sh real BOOTSTRAP TOPIC          (the realkafka harness; hold its lock)
#        Scripts/coordinator-move.sh sim BOOTSTRAP TOPIC CONTROL   (ballast sim; CONTROL is its control URL)
set -uo pipefail
mode=${1:?usage: coordinator-move.sh real|sim BOOTSTRAP TOPIC [CONTROL]}
bootstrap=${2:?}
topic=${3:?}
control=${4:-}
cd "$(dirname "$0")/.."
cluster=${REALKAFKA_CLUSTER_SH:-$PWD/../shared/tools/realkafka/cluster.sh}
bin=${TMPDIR:-/tmp}/realkafka/kafka_2.13-4.1.0/bin
run=move$RANDOM$RANDOM
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
ready() { for _ in $(seq 1 1200); do grep -q '^ready' "$1" && return 0; sleep 0.1; done; echo "$1 not ready" >&2; exit 1; }

/usr/bin/python3 Scripts/group-consumer.py --bootstrap "$bootstrap" --topics "$topic" --group "$run" --consumers 3 \
    --run "$run" >"$work/consumers.out" 2>/dev/null &
consumers=$!
ready "$work/consumers.out"
/usr/bin/python3 Scripts/idempotent-producer.py --bootstrap "$bootstrap" --topics "$topic" --rate 100 --run "$run" \
    --value-bytes 1000 >"$work/producer.out" 2>/dev/null &
producer=$!
ready "$work/producer.out"
sleep 5
coordinator=$("$bin/kafka-consumer-groups.sh" --bootstrap-server "$bootstrap" --describe --group "$run" --state 2>/dev/null \
    | grep -v COORDINATOR | sed -n 's/.*(\([0-9][0-9]*\)).*/\1/p' | head -1)
echo "coordinator: node $coordinator"
stopped=$(date +%s.%N)
if [ "$mode" = real ]; then
    "$cluster" stop-node "$coordinator" >/dev/null 2>&1
else
    curl -sf -X POST "$control/v1/brokers/$coordinator/stop" >/dev/null
fi
echo "stop returned after $(echo "$(date +%s.%N) - $stopped" | bc) s"
sleep 15
if [ "$mode" = real ]; then
    "$cluster" start-node "$coordinator" >/dev/null 2>&1
else
    curl -sf -X POST "$control/v1/brokers/$coordinator/start" >/dev/null
fi
sleep 15
kill -TERM "$producer"; wait "$producer"
sleep 10
kill -TERM "$consumers"; wait "$consumers"
echo "producer: $(tail -1 "$work/producer.out")"
echo "consumers: $(tail -1 "$work/consumers.out")"
echo "coordinator now: $("$bin/kafka-consumer-groups.sh" --bootstrap-server "$bootstrap" --describe --group "$run" --state 2>/dev/null | grep -v COORDINATOR | sed -n 's/.*(\([0-9][0-9]*\)).*/\1/p' | head -1)"
