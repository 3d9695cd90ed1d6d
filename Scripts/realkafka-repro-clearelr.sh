#!/usr/bin/env bash
# Reproduces a Kafka 4.1.0 restart crash seen on the harness: after the cluster-level default
# min.insync.replicas is altered (ELR on => the controller writes ClearElrRecord(topicName="")),
# a node restarted before a metadata snapshot covers that record dies replaying it:
#   NullPointerException: Cannot invoke "org.apache.kafka.image.TopicImage.partitions()" because
#   "this.image" is null  at TopicDelta.replay <- TopicsDelta.maybeReplayClearElrRecord
# Runs a separate 3-node cluster.sh cluster (RK_ROOT=/tmp/rk-repro) inside a private network
# namespace, so the shared harness on the host loopback is not touched. Needs root.
set -uo pipefail
R=/tmp/rk-repro
C=/work/shared/tools/realkafka/cluster.sh
rm -rf "$R"; mkdir -p "$R"
ln -s "${TMPDIR:-/tmp}/realkafka/kafka_2.13-4.1.0" "$R/kafka_2.13-4.1.0"   # reuse the unpacked distribution
REPRO_DELETE=${REPRO_DELETE:-1} unshare -n bash -c '
  set -uo pipefail
  ip link set lo up
  export RK_ROOT='"$R"' RK_BROKERS=0
  BIN=$RK_ROOT/kafka_2.13-4.1.0/bin; BS=127.0.0.1:19092
  '"$C"' start 2>&1 | tail -1
  KAFKA_HEAP_OPTS=-Xmx256m $BIN/kafka-topics.sh --bootstrap-server $BS --create --topic t1 --partitions 3 --replication-factor 3
  # variant (REPRO_DELETE=1): a topic created and deleted before the change, as on the harness
  if [[ ${REPRO_DELETE:-1} == 1 ]]; then
    KAFKA_HEAP_OPTS=-Xmx256m $BIN/kafka-topics.sh --bootstrap-server $BS --create --topic t2 --partitions 3 --replication-factor 3
    KAFKA_HEAP_OPTS=-Xmx256m $BIN/kafka-topics.sh --bootstrap-server $BS --delete --topic t2
  fi
  KAFKA_HEAP_OPTS=-Xmx256m $BIN/kafka-configs.sh --bootstrap-server $BS --alter --entity-type brokers --entity-default --add-config min.insync.replicas=2
  sleep 3
  '"$C"' stop-node 1 2>&1 | tail -1
  '"$C"' start-node 1 2>&1 | tail -1
  echo "--- node 1 faults:"; grep -A2 "fatal fault" $RK_ROOT/logs/node1/stdout.log | cut -c1-250
  '"$C"' stop 2>&1 | tail -1
'
