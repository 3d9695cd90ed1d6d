#!/usr/bin/env bash
# The same client checks against real Kafka 4.1 and against the simulator: Scripts/clients-check.sh on the real
# Kafka harness (shared/tools/realkafka, 3 combined nodes, a topic of 6 partitions, RF 3, min ISR 2) and on
# `ballast sim` (3 brokers, the same topic), each followed by Scripts/coordinator-move.sh (the group's coordinator
# stops for 15 s); then Kafka 4.1's own Java clients (console producer with its default
# idempotence, console consumer in a group, kafka-consumer-groups.sh) against the simulator.
# Holds /tmp/realkafka.lock for the whole session and stops and wipes the cluster at the end.
# Usage: RK_MIRROR=<bare git copy> Scripts/realkafka-clients.sh   (see shared/tools/realkafka/README.md)
set -uo pipefail
cd "$(dirname "$0")/.."
cluster=${REALKAFKA_CLUSTER_SH:-$PWD/../shared/tools/realkafka/cluster.sh}
bin=${TMPDIR:-/tmp}/realkafka/kafka_2.13-4.1.0/bin
work=$(mktemp -d)
exec 9>/tmp/realkafka.lock
flock 9
trap '"$cluster" stop >/dev/null 2>&1; "$cluster" wipe >/dev/null 2>&1; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

swift build --product ballast >&2 || exit 1
"$cluster" start || exit 1
bootstrap=$("$cluster" bootstrap)
"$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --topic clients-check --partitions 6 \
    --replication-factor 3 --config min.insync.replicas=2
echo "== real Kafka 4.1 ($bootstrap)"
./Scripts/clients-check.sh "$bootstrap" clients-check 3000
echo "exit: $?"
echo "== real Kafka 4.1: the group's coordinator stops for 15 s"
./Scripts/coordinator-move.sh real "$bootstrap" clients-check
"$cluster" stop >/dev/null 2>&1

.build/debug/ballast sim --brokers 3 --topics 0 --port 0 --control-port 0 >"$work/sim.out" 2>/dev/null &
for _ in $(seq 1 300); do grep -q '^control=' "$work/sim.out" && break; sleep 0.1; done
sim=$(grep -m1 '^bootstrap=' "$work/sim.out" | cut -d= -f2)
control=$(grep -m1 '^control=' "$work/sim.out" | cut -d= -f2)
"$bin/kafka-topics.sh" --bootstrap-server "$sim" --create --topic clients-check --partitions 6 \
    --replication-factor 3 --config min.insync.replicas=2
echo "== ballast sim ($sim)"
./Scripts/clients-check.sh "$sim" clients-check 3000
echo "exit: $?"
echo "== ballast sim: the group's coordinator stops for 15 s"
./Scripts/coordinator-move.sh sim "$sim" clients-check "$control"

echo "== Kafka 4.1 Java clients against ballast sim"
"$bin/kafka-topics.sh" --bootstrap-server "$sim" --create --topic java-check --partitions 6 --replication-factor 3 \
    --config min.insync.replicas=2
seq 1 1000 | sed 's/^/java-/' | "$bin/kafka-console-producer.sh" --bootstrap-server "$sim" --topic java-check \
    2>"$work/java-producer.err"
echo "console producer exit: $? $(grep -v WARN "$work/java-producer.err" | tail -2)"
"$bin/kafka-console-consumer.sh" --bootstrap-server "$sim" --topic java-check --group java-group --from-beginning \
    --max-messages 1000 --timeout-ms 60000 >"$work/java-consumer.out" 2>"$work/java-consumer.err"
echo "console consumer exit: $?: $(sort -u "$work/java-consumer.out" | grep -c '^java-') distinct of the 1000 lines; $(grep -iv 'WARN' "$work/java-consumer.err" | tail -2)"
"$bin/kafka-consumer-groups.sh" --bootstrap-server "$sim" --describe --group java-group 2>&1 | tail -8
"$bin/kafka-consumer-groups.sh" --bootstrap-server "$sim" --list 2>&1 | tail -5
