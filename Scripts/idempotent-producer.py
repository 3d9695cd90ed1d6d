#!/usr/bin/python3
"""An idempotent producer with librdkafka's defaults otherwise (acks=all, retries on), counting what it delivers.

Run with Debian's /usr/bin/python3 (python3-confluent-kafka on librdkafka). Every message's value is
"<run>-<n>" (n from 0), its key n, so a consumer can tell lost and duplicated messages apart. Two modes:

  --count N    produce N messages over every partition of the topics, flush, exit
  --rate R     produce R messages per second until SIGTERM or SIGINT, then flush

It prints "ready" on stdout after the first acknowledged message, then, at the end, one JSON line:

  {"run": "...", "sent": N, "ok": N, "failed": N, "errors": {"NAME": N}, "seconds": S}

Exit status 0 when every message was delivered, 1 otherwise, 2 for bad usage.
"""

import argparse
import json
import os
import signal
import sys
import time

from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topics", required=True, help="comma-separated topic names")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--count", type=int, help="messages to produce, then exit")
    mode.add_argument("--rate", type=float, help="messages per second until SIGTERM")
    ap.add_argument("--value-bytes", type=int, default=0, help="pad values to this size")
    ap.add_argument("--run", default=None, help="prefix of the values (default: random)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to wait for deliveries at the end")
    args = ap.parse_args()
    if (args.count is not None and args.count < 0) or (args.rate is not None and args.rate <= 0):
        print("idempotent-producer: --count must be >= 0 and --rate > 0", file=sys.stderr)
        sys.exit(2)

    run = args.run or os.urandom(4).hex()
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True})
    topics = [t for t in args.topics.split(",") if t]
    meta = producer.list_topics(timeout=30)
    targets = []
    for t in topics:
        tm = meta.topics.get(t)
        if tm is None or tm.error is not None or not tm.partitions:
            print(f"idempotent-producer: topic {t} is not in the cluster's metadata", file=sys.stderr)
            sys.exit(2)
        targets += [(t, p) for p in sorted(tm.partitions)]

    stats = {"run": run, "sent": 0, "ok": 0, "failed": 0, "errors": {}}
    ready = [False]

    def delivered(err, msg):
        if err is None:
            stats["ok"] += 1
            if not ready[0]:
                ready[0] = True
                print("ready", flush=True)
            return
        stats["failed"] += 1
        stats["errors"][err.name()] = stats["errors"].get(err.name(), 0) + 1

    stopping = [False]

    def stop(*_):
        stopping[0] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these blocked (threads of a test runner); we must still hear them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

    started = time.monotonic()
    next_send = started
    n = 0
    while not stopping[0] and (args.count is None or n < args.count):
        topic, partition = targets[n % len(targets)]
        value = f"{run}-{n}".encode()
        value += b"." * max(0, args.value_bytes - len(value))
        while True:
            try:
                producer.produce(topic, key=str(n).encode(), value=value, partition=partition, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        stats["sent"] += 1
        n += 1
        if args.rate:
            next_send += 1.0 / args.rate
            producer.poll(max(0.0, next_send - time.monotonic()))
        else:
            producer.poll(0)
    remaining = producer.flush(args.timeout)
    if remaining:
        stats["errors"]["UNDELIVERED_AT_EXIT"] = remaining
        stats["failed"] += remaining
    stats["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(stats, sort_keys=True), flush=True)
    sys.exit(0 if stats["failed"] == 0 and stats["ok"] == stats["sent"] else 1)


if __name__ == "__main__":
    main()
