#!/usr/bin/env bash
# The client checks of issue #13, against any Kafka bootstrap (`ballast sim` or a real cluster), with Debian's
# librdkafka clients at their default settings:
#   1. a consumer group of three (Scripts/group-consumer.py) forms, then an idempotent producer
#      (Scripts/idempotent-producer.py, enable.idempotence=true) writes N messages of 1 KB, and the group reads
#      every one (none missing, duplicates counted);
#   2. kcat -P writes 60 lines, kcat -C reads partition 0 from the beginning, kcat -G reads the topic as a group.
# Usage: Scripts/clients-check.sh BOOTSTRAP TOPIC [N]   (TOPIC must exist; N defaults to 3000)
# Prints one line per result; exit 1 when a client failed or a message is missing.
set -euo pipefail
bootstrap=${1:?usage: clients-check.sh BOOTSTRAP TOPIC [N]}
topic=${2:?usage: clients-check.sh BOOTSTRAP TOPIC [N]}
n=${3:-3000}
cd "$(dirname "$0")/.."
run=check$RANDOM$RANDOM
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
kcat=$(command -v kcat || command -v kafkacat)
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

started=$(now)
/usr/bin/python3 Scripts/group-consumer.py --bootstrap "$bootstrap" --topics "$topic" --group "$run-group" \
    --consumers 3 --expect "$n" --run "$run" --timeout 300 >"$work/consumers.out" 2>"$work/consumers.err" &
consumers=$!
for _ in $(seq 1 1200); do grep -q '^ready' "$work/consumers.out" && break; sleep 0.1; done
grep -q '^ready' "$work/consumers.out" || { echo "the consumer group did not form within 120 s" >&2; tail -5 "$work/consumers.err" >&2; exit 1; }
echo "group formed: $(since "$started") s"
produced=$(now)
/usr/bin/python3 Scripts/idempotent-producer.py --bootstrap "$bootstrap" --topics "$topic" --count "$n" --run "$run" \
    --value-bytes 1000 >"$work/producer.out" 2>"$work/producer.err" || true
echo "producer: $(tail -1 "$work/producer.out")"
status=0
wait "$consumers" || status=1
echo "consumers: $(tail -1 "$work/consumers.out") (all read $(since "$produced") s after the producer started)"

seq 1 60 | sed "s/^/$run-kcat-/" | "$kcat" -P -b "$bootstrap" -t "$topic" -q || status=1
partition0=$("$kcat" -C -b "$bootstrap" -t "$topic" -p 0 -o beginning -e -q | wc -l) || status=1
echo "kcat -C partition 0: $partition0 messages"
"$kcat" -G "$run-kcat" -b "$bootstrap" -o beginning -e -q "$topic" >"$work/kcat-group.out" 2>"$work/kcat-group.err" || status=1
echo "kcat -G: $(wc -l <"$work/kcat-group.out") messages, $(grep -c "^$run-kcat-" "$work/kcat-group.out") of the 60 kcat lines"
[ "$(grep -c "^$run-kcat-" "$work/kcat-group.out")" = 60 ] || status=1
exit $status
