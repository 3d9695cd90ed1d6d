#!/usr/bin/env bash
# Rolls `ballast sim` (9 brokers, 3 racks, RF 3, min ISR 2, replication limited so catch-up outlasts a restart)
# under Scripts/acks-all-producer.py (acks=all, retries off) and a consumer group of three
# (Scripts/group-consumer.py, librdkafka defaults), either with `ballast roll` or naively (the next broker as soon
# as the previous one runs), and prints the wall time, the clients' summaries and the simulator's stats.
# Usage: Scripts/sim-roll-compare.sh ballast|naive [--time-scale N] [--replication-rate B]
#   (needs /usr/bin/python3 with confluent-kafka). --time-scale defaults to 10; use 1 for consumer figures: the
#   clients' own timers (heartbeat, session) run in real time, so a faster cluster shortens their sessions.
set -euo pipefail
mode=${1:?usage: sim-roll-compare.sh ballast|naive [--time-scale N] [--replication-rate B]}
shift
scale=10
rate=15000
while [ $# -gt 0 ]; do
    case "$1" in
        --time-scale) scale=${2:?}; shift 2 ;;
        --replication-rate) rate=${2:?}; shift 2 ;;
        *) echo "sim-roll-compare: unknown option $1" >&2; exit 2 ;;
    esac
done
name=sim-roll-compare
# shellcheck source=sim-roll-common.sh
source "$(dirname "$0")/sim-roll-common.sh"

"$ballast" sim --brokers 9 --racks 3 --topics 3 --partitions 6 --replication-factor 3 --min-isr 2 --port 0 \
    --control-port 0 --time-scale "$scale" --startup-delay-ms 2000 --replication-rate "$rate" >"$work/sim.out" 2>/dev/null &
bootstrap=$(await_line "$work/sim.out" bootstrap)
control=$(await_line "$work/sim.out" control)
/usr/bin/python3 Scripts/group-consumer.py --bootstrap "$bootstrap" --topics topic-0,topic-1,topic-2 \
    --group roll-group --consumers 3 >"$work/consumers.out" 2>/dev/null &
consumers=$!
await_ready "$work/consumers.out"
/usr/bin/python3 Scripts/acks-all-producer.py --bootstrap "$bootstrap" --topics topic-0,topic-1,topic-2 \
    --rate 300 --value-bytes 1000 >"$work/producer.out" 2>/dev/null &
producer=$!
await_ready "$work/producer.out"
sleep 2

stats() { curl -sf "$control/v1/stats"; }
group_figures() { stats | /usr/bin/python3 -c "import json,sys; g=[g for g in json.load(sys.stdin)['groups'] if g['group']=='roll-group'][0]; print(g['rebalances'], g['sessionTimeouts'], g['rebalancingMs'])"; }
state() { curl -sf "$control/v1/brokers" | /usr/bin/python3 -c "import json,sys; print([b['state'] for b in json.load(sys.stdin)['brokers'] if b['id']==$1][0])"; }
read -r rebalances0 timeouts0 rebalancing0 < <(group_figures)
start=$(date +%s.%N)
if [ "$mode" = naive ]; then
    for n in 1 2 3 4 5 6 7 8 9; do
        curl -sf -X POST "$control/v1/brokers/$n/stop" >/dev/null
        until [ "$(state $n)" = stopped ]; do sleep 0.05; done
        curl -sf -X POST "$control/v1/brokers/$n/start" >/dev/null
        until [ "$(state $n)" = running ]; do sleep 0.05; done
    done
else
    "$ballast" agent --driver sim --sim-control "$control" --listen 127.0.0.1:0 >"$work/agent.out" 2>/dev/null &
    agent=$(await_line "$work/agent.out" listening)
    "$ballast" roll --bootstrap "$bootstrap" --agent "$agent" --state-dir "$work/state" --json >"$work/roll.out"
    echo "batches: $(grep -c '"batchStarted"' "$work/roll.out")"
fi
echo "wall seconds: $(echo "$(date +%s.%N) - $start" | bc)"
sleep 2
kill -TERM "$producer"
wait "$producer" || true
# The group has read everything once no partition has committed data waiting for it.
for _ in $(seq 1 600); do
    [ "$(stats | /usr/bin/python3 -c "import json,sys; print(len(json.load(sys.stdin)['consumerGaps']['open']))")" = 0 ] && break
    sleep 0.1
done
read -r rebalances1 timeouts1 rebalancing1 < <(group_figures)
kill -TERM "$consumers"
wait "$consumers" || true
echo "producer: $(tail -1 "$work/producer.out")"
echo "consumers: $(tail -1 "$work/consumers.out")"
echo "group during the roll: rebalances $((rebalances1 - rebalances0)), session timeouts $((timeouts1 - timeouts0)), rebalancing $((rebalancing1 - rebalancing0)) ms (cluster time)"
echo "simulator: $(stats | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d[k] for k in ('produce', 'produceTotal', 'underMinIsr', 'offline', 'fetch')} | {'longestConsumerGap': d['consumerGaps'].get('longest')}))")"
