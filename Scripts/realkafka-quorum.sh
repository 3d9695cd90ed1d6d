#!/usr/bin/env bash
# DescribeQuorum on the real Kafka 4.1 harness before, during and after stopping one controller
# (default: the current quorum leader). Output: $WORK/quorum-stop-node<N>.txt
set -uo pipefail
BIN=${TMPDIR:-/tmp}/realkafka/kafka_2.13-4.1.0/bin
C=/work/shared/tools/realkafka/cluster.sh
WORK=${WORK:-/tmp/realkafka-timings}; mkdir -p "$WORK"
export RK_BROKERS=3
unset KAFKA_HEAP_OPTS  # brokers keep cluster.sh's default heap; the tools get their own below
ALLC=127.0.0.1:19192,127.0.0.1:19193,127.0.0.1:19194
q() { KAFKA_HEAP_OPTS=-Xmx256m "$BIN/kafka-metadata-quorum.sh" --bootstrap-controller "$1" describe "$2" 2>&1; }
N=${1:-$(q $ALLC --status | awk '/^LeaderId/ {print $2}')}
OTHERS=$(for n in 1 2 3; do [[ $n != "$N" ]] && printf '127.0.0.1:%d,' $((19191 + n)); done); OTHERS=${OTHERS%,}
OUT=$WORK/quorum-stop-node$N.txt
{
  echo "### before (stopping node $N, the leader if no argument)"; q $ALLC --status; q $ALLC --replication
  t0=$(date +%s.%N)
  echo "### stop-node $N issued at $(date +%T.%N)"
  $C stop-node "$N" 2>&1 &
  STOPPER=$!
  for i in $(seq 1 6); do
    s=$(q "$OTHERS" --status | grep -E '^(LeaderId|LeaderEpoch|HighWatermark|MaxFollowerLag)' | tr '\n' ' ')
    echo "t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s $s"
  done
  wait $STOPPER
  echo "### after stop (node $N down, t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s)"; q "$OTHERS" --status; q "$OTHERS" --replication
  sleep 10; echo "### 10 s later"; q "$OTHERS" --replication
  echo "### start-node $N"; $C start-node "$N" 2>&1
  q $ALLC --status; q $ALLC --replication
} | tee "$OUT"
