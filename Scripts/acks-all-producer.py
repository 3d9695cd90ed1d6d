#!/usr/bin/python3
"""An acks=all producer with retries off: the load under which Ballast's rolls are judged.

Run with Debian's /usr/bin/python3 (python3-confluent-kafka on librdkafka). It writes to every partition of
the given topics in turn, at a steady rate, until SIGTERM or SIGINT; then it waits for outstanding deliveries
and prints one JSON line:

  {"sent": N, "ok": N, "failed": N, "errors": {"NOT_ENOUGH_REPLICAS": N, ...}, "first_failures": [...]}

Retries are off (message.send.max.retries=0), so a NOT_ENOUGH_REPLICAS answer fails the message instead of
being hidden by a retry. librdkafka still re-sends, without counting a retry, a request that a broker refused
as NOT_LEADER_OR_FOLLOWER (stale metadata, nothing written), so leadership moving during a controlled
shutdown is not a failure. It prints "ready" on stdout after the first acknowledged message.
"""

import argparse
import json
import signal
import sys
import time

from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topics", required=True, help="comma-separated topic names")
    ap.add_argument("--rate", type=float, default=200, help="messages per second over all partitions")
    ap.add_argument("--value-bytes", type=int, default=100)
    ap.add_argument("--message-timeout-ms", type=int, default=60000)
    args = ap.parse_args()

    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "acks": "all",
            "message.send.max.retries": 0,
            "enable.idempotence": False,
            "linger.ms": 5,
            "request.timeout.ms": 15000,
            "message.timeout.ms": args.message_timeout_ms,
            "topic.metadata.refresh.interval.ms": 2000,
            "socket.keepalive.enable": True,
        }
    )
    topics = [t for t in args.topics.split(",") if t]
    meta = producer.list_topics(timeout=30)
    targets = []
    for t in topics:
        tm = meta.topics.get(t)
        if tm is None or tm.error is not None or not tm.partitions:
            print(f"acks-all-producer: topic {t} is not in the cluster's metadata", file=sys.stderr)
            sys.exit(2)
        targets += [(t, p) for p in sorted(tm.partitions)]

    stats = {"sent": 0, "ok": 0, "failed": 0, "errors": {}, "first_failures": []}
    started = time.monotonic()
    ready = [False]

    def delivered(err, msg):
        if err is None:
            stats["ok"] += 1
            if not ready[0]:
                ready[0] = True
                print("ready", flush=True)
            return
        stats["failed"] += 1
        name = err.name()
        stats["errors"][name] = stats["errors"].get(name, 0) + 1
        if len(stats["first_failures"]) < 20:
            stats["first_failures"].append(
                {
                    "t": round(time.monotonic() - started, 3),
                    "topic": msg.topic(),
                    "partition": msg.partition(),
                    "error": name,
                }
            )

    stopping = [False]

    def stop(*_):
        stopping[0] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these blocked (threads of a test runner); we must still hear them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

    interval = 1.0 / args.rate
    next_send = time.monotonic()
    i = 0
    while not stopping[0]:
        topic, partition = targets[i % len(targets)]
        i += 1
        # Each value is distinct ("<n>-xxx...", value-bytes long) so a consumer can count duplicates.
        value = f"{i}-".encode().ljust(args.value_bytes, b"x")
        while True:
            try:
                producer.produce(topic, value=value, partition=partition, on_delivery=delivered)
                stats["sent"] += 1
                break
            except BufferError:
                producer.poll(0.05)
        next_send += interval
        delay = next_send - time.monotonic()
        producer.poll(max(0.0, delay))
    remaining = producer.flush(args.message_timeout_ms / 1000 + 5)
    if remaining:
        stats["errors"]["UNDELIVERED_AT_EXIT"] = remaining
        stats["failed"] += remaining
    stats["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(stats, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
