#!/usr/bin/python3
"""A consumer group of N librdkafka consumers (one thread each, one group), counting what the group receives.

Run with Debian's /usr/bin/python3 (python3-confluent-kafka on librdkafka). The consumers use librdkafka's
defaults except group.id and auto.offset.reset=earliest (so messages produced before the first assignment are
read). Values are expected as written by Scripts/idempotent-producer.py ("<run>-<n>"); other values are counted
as they are. The group stops when:

  --expect N      it has received N distinct values (or --timeout passes), or
  (no --expect)   SIGTERM or SIGINT arrives.

It prints "ready" on stdout once every consumer has an assignment, then one JSON line:

  {"consumers": 3, "received": N, "unique": N, "duplicates": N, "missing": N, "rebalances": N,
   "perConsumer": [N, ...], "longestGapMs": N, "longestPartitionGapMs": N, "seconds": S}

With --run, only that run's values count towards --expect, "runValues" counts the run's distinct values received,
and "missing" counts values 0..N-1 of the run never received. "rebalances"
counts assignments the consumers got (each consumer gets one per completed group rebalance). "longestGapMs" is the
longest time the whole group received nothing between its first and last message; "longestPartitionGapMs" the
same for any single partition (meaningful under a steady producer). Exit 0 when nothing is missing.
"""

import argparse
import json
import signal
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topics", required=True, help="comma-separated topic names")
    ap.add_argument("--group", required=True)
    ap.add_argument("--consumers", type=int, default=3)
    ap.add_argument("--expect", type=int, default=None, help="stop after this many distinct values")
    ap.add_argument("--run", default=None, help="the producer's run id, to count missing values")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    if args.consumers < 1:
        print("group-consumer: --consumers must be at least 1", file=sys.stderr)
        sys.exit(2)

    topics = [t for t in args.topics.split(",") if t]
    lock = threading.Lock()
    seen = {}
    run_seen = set()
    state = {
        "received": 0,
        "rebalances": 0,
        "first": None,
        "last": None,
        "longestGap": 0.0,
        "partitionLast": {},
        "longestPartitionGap": 0.0,
    }
    per_consumer = [0] * args.consumers
    assigned = [False] * args.consumers
    stopping = threading.Event()
    ready_printed = [False]

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start us with these blocked (threads of a test runner); we must still hear them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

    def consume(i):
        consumer = Consumer(
            {"bootstrap.servers": args.bootstrap, "group.id": args.group, "auto.offset.reset": "earliest"}
        )

        def on_assign(c, partitions):
            with lock:
                state["rebalances"] += 1
                assigned[i] = True
                if all(assigned) and not ready_printed[0]:
                    ready_printed[0] = True
                    print("ready", flush=True)

        consumer.subscribe(topics, on_assign=on_assign)
        try:
            while not stopping.is_set():
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        print(f"consumer {i}: {msg.error()}", file=sys.stderr)
                    continue
                now = time.monotonic()
                value = msg.value().decode(errors="replace") if msg.value() is not None else ""
                key = (msg.topic(), msg.partition())
                with lock:
                    state["received"] += 1
                    per_consumer[i] += 1
                    seen[value] = seen.get(value, 0) + 1
                    if args.run and value.startswith(args.run + "-"):
                        run_seen.add(value.split(".", 1)[0])
                    if state["first"] is None:
                        state["first"] = now
                    if state["last"] is not None:
                        state["longestGap"] = max(state["longestGap"], now - state["last"])
                    state["last"] = now
                    last = state["partitionLast"].get(key)
                    if last is not None:
                        state["longestPartitionGap"] = max(state["longestPartitionGap"], now - last)
                    state["partitionLast"][key] = now
                    if args.expect is not None and len(run_seen if args.run else seen) >= args.expect:
                        stopping.set()
        finally:
            consumer.close()

    started = time.monotonic()
    threads = [threading.Thread(target=consume, args=(i,), daemon=True) for i in range(args.consumers)]
    for t in threads:
        t.start()
    while not stopping.is_set():
        if args.expect is not None and time.monotonic() - started > args.timeout:
            stopping.set()
        stopping.wait(0.2)
    for t in threads:
        t.join(60)

    unique = len(seen)
    missing = None
    if args.expect is not None and args.run:
        # Padded values ("<run>-<n>....") count as their prefix.
        missing = sum(1 for n in range(args.expect) if f"{args.run}-{n}" not in run_seen)
    result = {
        "consumers": args.consumers,
        "received": state["received"],
        "unique": unique,
        "duplicates": state["received"] - unique,
        "missing": missing,
        "runValues": len(run_seen) if args.run else None,
        "rebalances": state["rebalances"],
        "perConsumer": per_consumer,
        "longestGapMs": round(state["longestGap"] * 1000),
        "longestPartitionGapMs": round(state["longestPartitionGap"] * 1000),
        "seconds": round(time.monotonic() - started, 3),
    }
    print(json.dumps(result, sort_keys=True), flush=True)
    if missing is not None:
        sys.exit(0 if missing == 0 else 1)
    if args.expect is not None:
        sys.exit(0 if unique >= args.expect else 1)


if __name__ == "__main__":
    main()
