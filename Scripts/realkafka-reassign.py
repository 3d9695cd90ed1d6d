#!/usr/bin/env python3
"""Throttled reassignment on the real Kafka 4.1 harness: progress over time versus size and rate.

Usage: realkafka-reassign.py [MB] [RATE_BYTES_PER_S]   (defaults 60 MB, 1000000 B/s)
Creates topic reassign-topic (1 partition, replicas 1,2,3, segment.bytes 16 MiB), fills it with
kafka-producer-perf-test.sh, then moves it to 4,5,6 with
`kafka-reassign-partitions.sh --execute --throttle RATE` (which sets leader/follower
.replication.throttled.rate on the brokers and the throttled replicas on the topic), samples the
on-disk size of the partition on nodes 4-6 and the metadata (kcat) every second, captures a
ListPartitionReassignments exchange while the move is in progress, and finishes with --verify
(which clears the throttles). Writes $WORK/reassign-<MB>MB.json.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "realkafka")
BIN = os.path.join(RK, "kafka_2.13-4.1.0/bin")
WORK = os.environ.get("WORK", "/tmp/realkafka-timings")
BS = "127.0.0.1:19092"
TOPIC = "reassign-topic"
ENV = dict(os.environ, KAFKA_HEAP_OPTS="-Xmx256m")


def sh(*args, **kw):
    return subprocess.run(list(args), env=ENV, capture_output=True, text=True, **kw)


def size_on(node):
    d = os.path.join(RK, "data/node%d/%s-0" % (node, TOPIC))
    total = 0
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.endswith(".log"):
                total += os.path.getsize(os.path.join(d, f))
    return total


def meta():
    out = sh("kcat", "-L", "-J", "-m", "3", "-b", BS, "-t", TOPIC).stdout
    try:
        p = json.loads(out)["topics"][0]["partitions"][0]
    except (ValueError, KeyError, IndexError):
        return None
    return {"leader": p["leader"], "replicas": [r["id"] for r in p["replicas"]], "isr": [r["id"] for r in p["isrs"]]}


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    os.makedirs(WORK, exist_ok=True)
    res = {"mb": mb, "throttle_bytes_per_s": rate}
    sh(BIN + "/kafka-topics.sh", "--bootstrap-server", BS, "--delete", "--topic", TOPIC)
    time.sleep(3)
    r = sh(BIN + "/kafka-topics.sh", "--bootstrap-server", BS, "--create", "--topic", TOPIC,
           "--replica-assignment", "1:2:3", "--config", "min.insync.replicas=2")
    res["create"] = r.stdout.strip() + r.stderr.strip()[-300:]
    t = time.monotonic()
    r = sh(BIN + "/kafka-producer-perf-test.sh", "--topic", TOPIC, "--num-records", str(mb * 1000),
           "--record-size", "1000", "--throughput", "-1", "--producer-props", "bootstrap.servers=" + BS,
           "acks=all", "linger.ms=20", "batch.size=262144")
    res["produce_s"] = round(time.monotonic() - t, 1)
    res["produce_summary"] = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]
    res["source_log_bytes_node1"] = size_on(1)
    plan = os.path.join(WORK, "reassign-plan.json")
    with open(plan, "w") as f:
        json.dump({"version": 1, "partitions": [{"topic": TOPIC, "partition": 0, "replicas": [4, 5, 6]}]}, f)
    t0 = time.monotonic()
    r = sh(BIN + "/kafka-reassign-partitions.sh", "--bootstrap-server", BS, "--execute",
           "--reassignment-json-file", plan, "--throttle", str(rate))
    res["execute_output"] = r.stdout.strip()[-700:]
    res["execute_returned_s"] = round(time.monotonic() - t0, 1)
    samples = []
    captured = False
    done = None
    while time.monotonic() - t0 < 900:
        t = round(time.monotonic() - t0, 1)
        m = meta()
        s = {"t": t, "bytes": {str(n): size_on(n) for n in (4, 5, 6)}, "meta": m}
        samples.append(s)
        if m and m["replicas"] == [4, 5, 6]:
            done = t
            break
        if not captured and t > 5:
            captured = True
            w = "/tmp/realkafka-capture"
            sh("python3", os.path.join(ROOT, "Scripts/capture-proxy.py"), "--out", w + "/first", "--raw", w + "/raw",
               "--index", w + "/capture-index.jsonl", "--label",
               "in-progress: kafka-reassign-partitions.sh --bootstrap-server %s --list (during throttled move of %s-0 1,2,3 -> 4,5,6)" % (BS, TOPIC),
               "--netns", "19092-19097,19192-19194", "--", BIN + "/kafka-reassign-partitions.sh",
               "--bootstrap-server", BS, "--list")
        time.sleep(1)
    res["replicas_4_5_6_s"] = done
    res["samples"] = samples
    r = sh(BIN + "/kafka-reassign-partitions.sh", "--bootstrap-server", BS, "--verify",
           "--reassignment-json-file", plan)
    res["verify_output"] = r.stdout.strip()
    out = os.path.join(WORK, "reassign-%dMB.json" % mb)
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "samples"}, indent=1))
    for s in samples[:: max(1, len(samples) // 15)]:
        print(s["t"], s["bytes"], s["meta"])


if __name__ == "__main__":
    main()
