#!/usr/bin/env bash
# Captures golden Kafka 4.1 wire frames by running real clients (kcat / librdkafka 2.0.2 and the
# Java tools of the Kafka 4.1.0 distribution) through Scripts/capture-proxy.py in network-namespace
# mode, so every connection a client makes (bootstrap and advertised brokers) passes the proxy.
# Needs the harness cluster (shared/tools/realkafka/cluster.sh, RK_BROKERS=3) running and root
# (for the private network namespace). Writes <Name>-v<V>.bin into the fixture folder (first
# capture of each name+version wins) and every frame plus an index under $WORK; then
# Scripts/realkafka-fixtures.py picks the fixture files and writes MANIFEST.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-${WORK:-/tmp/realkafka-capture}/first}  # first capture of each name+version; fixtures are chosen by realkafka-fixtures.py
WORK=${WORK:-/tmp/realkafka-capture}
BIN=${TMPDIR:-/tmp}/realkafka/kafka_2.13-4.1.0/bin
BS=127.0.0.1:19092
CTL=127.0.0.1:19192
mkdir -p "$OUT" "$WORK"
export KAFKA_HEAP_OPTS="-Xmx256m"

cap() {  # cap LABEL -- command...
  local label=$1; shift; [[ $1 == -- ]] && shift
  echo "== $label" >&2
  python3 "$ROOT/Scripts/capture-proxy.py" --out "$OUT" --raw "$WORK/raw" --index "$WORK/capture-index.jsonl" \
    --label "$label" --netns 19092-19097,19192-19194 -- "$@" > "$WORK/last.out" 2>&1 || echo "   (exit $?)" >&2
  head -5 "$WORK/last.out" | sed 's/^/   /' >&2
}

# a stable topic for Metadata/DescribeConfigs content (created without capture)
"$BIN/kafka-topics.sh" --bootstrap-server $BS --describe --topic fixture-topic >/dev/null 2>&1 || \
  "$BIN/kafka-topics.sh" --bootstrap-server $BS --create --topic fixture-topic --partitions 12 \
    --replication-factor 3 --config min.insync.replicas=2

cap "kcat -L -b $BS" -- kcat -L -b $BS
cap "kcat -L -b $BS -t fixture-topic" -- kcat -L -b $BS -t fixture-topic
cap "kafka-topics.sh --bootstrap-server $BS --describe --topic fixture-topic" -- \
  "$BIN/kafka-topics.sh" --bootstrap-server $BS --describe --topic fixture-topic
cap "kafka-topics.sh --bootstrap-server $BS --list" -- "$BIN/kafka-topics.sh" --bootstrap-server $BS --list
cap "kafka-configs.sh --bootstrap-server $BS --describe --all --entity-type brokers --entity-name 1" -- \
  "$BIN/kafka-configs.sh" --bootstrap-server $BS --describe --all --entity-type brokers --entity-name 1
cap "kafka-configs.sh --bootstrap-server $BS --describe --entity-type brokers --entity-default" -- \
  "$BIN/kafka-configs.sh" --bootstrap-server $BS --describe --entity-type brokers --entity-default
cap "kafka-configs.sh --bootstrap-server $BS --describe --entity-type topics --entity-name fixture-topic" -- \
  "$BIN/kafka-configs.sh" --bootstrap-server $BS --describe --entity-type topics --entity-name fixture-topic
cap "kafka-configs.sh --bootstrap-server $BS --alter --entity-type brokers --entity-name 1 --add-config log.cleaner.threads=2" -- \
  "$BIN/kafka-configs.sh" --bootstrap-server $BS --alter --entity-type brokers --entity-name 1 --add-config log.cleaner.threads=2
"$BIN/kafka-configs.sh" --bootstrap-server $BS --alter --entity-type brokers --entity-name 1 --delete-config log.cleaner.threads
cap "kafka-reassign-partitions.sh --bootstrap-server $BS --list" -- \
  "$BIN/kafka-reassign-partitions.sh" --bootstrap-server $BS --list
cap "kafka-metadata-quorum.sh --bootstrap-server $BS describe --status" -- \
  "$BIN/kafka-metadata-quorum.sh" --bootstrap-server $BS describe --status
cap "kafka-metadata-quorum.sh --bootstrap-server $BS describe --replication" -- \
  "$BIN/kafka-metadata-quorum.sh" --bootstrap-server $BS describe --replication
cap "kafka-cluster.sh cluster-id --bootstrap-server $BS" -- "$BIN/kafka-cluster.sh" cluster-id --bootstrap-server $BS
cap "kafka-features.sh --bootstrap-server $BS describe" -- "$BIN/kafka-features.sh" --bootstrap-server $BS describe
cap "kafka-log-dirs.sh --bootstrap-server $BS --describe --topic-list fixture-topic" -- \
  "$BIN/kafka-log-dirs.sh" --bootstrap-server $BS --describe --topic-list fixture-topic
cap "kafka-leader-election.sh --bootstrap-server $BS --election-type preferred --all-topic-partitions" -- \
  "$BIN/kafka-leader-election.sh" --bootstrap-server $BS --election-type preferred --all-topic-partitions
cap "kafka-topics.sh --bootstrap-server $BS --create --topic fixture-tmp --partitions 3 --replication-factor 3" -- \
  "$BIN/kafka-topics.sh" --bootstrap-server $BS --create --topic fixture-tmp --partitions 3 --replication-factor 3
cap "kafka-topics.sh --bootstrap-server $BS --alter --topic fixture-tmp --partitions 4" -- \
  "$BIN/kafka-topics.sh" --bootstrap-server $BS --alter --topic fixture-tmp --partitions 4
printf '{"version":1,"partitions":[{"topic":"fixture-tmp","partition":0,"replicas":[4,5,6]}]}' > "$WORK/reassign.json"
cap "kafka-reassign-partitions.sh --bootstrap-server $BS --execute --reassignment-json-file reassign.json (fixture-tmp-0 -> [4,5,6])" -- \
  "$BIN/kafka-reassign-partitions.sh" --bootstrap-server $BS --execute --reassignment-json-file "$WORK/reassign.json"
cap "kafka-reassign-partitions.sh --bootstrap-server $BS --verify --reassignment-json-file reassign.json" -- \
  "$BIN/kafka-reassign-partitions.sh" --bootstrap-server $BS --verify --reassignment-json-file "$WORK/reassign.json"
cap "kafka-topics.sh --bootstrap-server $BS --delete --topic fixture-tmp" -- \
  "$BIN/kafka-topics.sh" --bootstrap-server $BS --delete --topic fixture-tmp
cap "kafka-broker-api-versions.sh --bootstrap-server $BS" -- "$BIN/kafka-broker-api-versions.sh" --bootstrap-server $BS
cap "kafka-metadata-quorum.sh --bootstrap-controller $CTL describe --status" -- \
  "$BIN/kafka-metadata-quorum.sh" --bootstrap-controller $CTL describe --status
cap "printf 'a\\nb\\nc\\n' | kafka-console-producer.sh --bootstrap-server $BS --topic fixture-topic" -- \
  sh -c "printf 'a\\nb\\nc\\n' | $BIN/kafka-console-producer.sh --bootstrap-server $BS --topic fixture-topic"
cap "kafka-console-consumer.sh --bootstrap-server $BS --topic fixture-topic --from-beginning --max-messages 3 --group fixture-group" -- \
  "$BIN/kafka-console-consumer.sh" --bootstrap-server $BS --topic fixture-topic --from-beginning --max-messages 3 --group fixture-group
cap "kafka-consumer-groups.sh --bootstrap-server $BS --describe --group fixture-group" -- \
  "$BIN/kafka-consumer-groups.sh" --bootstrap-server $BS --describe --group fixture-group
cap "printf 'x\\ny\\n' | kcat -P -b $BS -t fixture-topic" -- sh -c "printf 'x\\ny\\n' | kcat -P -b $BS -t fixture-topic"
cap "kcat -C -b $BS -t fixture-topic -p 0 -o beginning -e" -- kcat -C -b $BS -t fixture-topic -p 0 -o beginning -e
echo "done; index: $WORK/capture-index.jsonl; now run Scripts/realkafka-fixtures.py" >&2
