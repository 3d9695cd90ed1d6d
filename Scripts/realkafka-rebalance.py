#!/usr/bin/python3
"""Executes add-brokers then remove-brokers rebalances on the real Kafka harness under acks=all load.

  1. topic `rebalance-0` (RF 3, min.insync.replicas 2) placed on nodes 1-3 only, filled with --fill-mb of data;
  2. Scripts/acks-all-producer.py (acks=all, retries off) writes to it throughout;
  3. `ballast rebalance --mode add-brokers --brokers 4,5,6 --execute --throttle T`;
  4. `ballast rebalance --mode remove-brokers --brokers 6 --execute --throttle T`;
and after each: the placement against the proposal Ballast journaled (its operations store), the throttle
configs left (`kafka-configs.sh --describe` of every broker, the cluster default and the topic), and the wall
time against the physical limit Ballast printed (the busiest broker's bytes ÷ throttle). One JSON line per
phase, then one for the producer.

Needs the 6-node harness: RK_BROKERS=3 shared/tools/realkafka/cluster.sh start (nodes 4-6 with start-node after
the controllers), under the lock /tmp/realkafka.lock. Run with Debian's /usr/bin/python3 (confluent-kafka).

  realkafka-rebalance.py --bootstrap 127.0.0.1:19092,... --throttle 1000000
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA_BIN = os.path.join(os.environ.get("TMPDIR", "/tmp"), "realkafka/kafka_2.13-4.1.0/bin")
TOPIC = "rebalance-0"


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def kafka_tool(name, *args):
    return subprocess.run([os.path.join(KAFKA_BIN, name), *args], check=True, capture_output=True, text=True).stdout


def placement(admin):
    md = admin.list_topics(topic=TOPIC, timeout=10).topics[TOPIC]
    return {p.id: (list(p.replicas), p.leader, list(p.isrs)) for p in md.partitions.values()}


def prepare(admin, bootstrap, partitions, fill_mb):
    if TOPIC not in admin.list_topics(timeout=10).topics:
        sets = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
        topic = NewTopic(TOPIC, partitions, replica_assignment=[sets[p % 3] for p in range(partitions)],
                         config={"min.insync.replicas": "2"})
        for f in admin.create_topics([topic]).values():
            f.result()
        time.sleep(2)
        log(f"filling {TOPIC} with {fill_mb} MB")
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 50, "batch.size": 1000000,
                      "compression.type": "none"})
        value = os.urandom(10000)
        for i in range(fill_mb * 100):
            while True:
                try:
                    p.produce(TOPIC, value, partition=i % partitions)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
        p.flush(120)
    # Wait until every replica is in sync.
    while any(len(isr) < len(r) for r, _, isr in placement(admin).values()):
        time.sleep(0.5)


def throttle_configs(bootstrap):
    """Every *.replication.throttled.* config set at a broker's level, the cluster default or the topic."""
    left = []
    for args in [["--entity-type", "brokers", "--entity-default"], ["--entity-type", "brokers", "--all"],
                 ["--entity-type", "topics", "--entity-name", TOPIC]]:
        out = kafka_tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--describe", *args)
        left += [line.strip() for line in out.splitlines() if "replication.throttled" in line]
    return left


def rebalance(args, flags, state):
    """Runs `ballast rebalance ... --execute --json`; returns the result and the proposal it journaled."""
    cmd = [args.ballast, "rebalance", "--bootstrap", args.bootstrap, "--state-dir", state, "--execute",
           "--throttle", str(args.throttle), "--json", *flags]
    log(" ".join(cmd))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(state + ".err", "w"), text=True)
    events = []
    first_move = None
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        t = time.monotonic() - start
        events.append((t, e))
        if e.get("event") == "movesStarted" and first_move is None:
            first_move = t
        if e.get("event") in ("movesStarted", "moveDone", "throttlesSet", "throttlesRestored", "finished",
                              "moveSkipped", "moveCancelled", "warning"):
            log(round(t, 1), e.get("event"), e.get("partitions") or e.get("partition") or e.get("outcome") or "")
    code = proc.wait()
    end = time.monotonic() - start
    proposal = next((e for _, e in events if e.get("event") == "proposal"), {})
    finished = next((e for _, e in events if e.get("event") == "finished"), {})
    db = sqlite3.connect(os.path.join(state, "roller.sqlite"))
    spec = json.loads(db.execute(
        "SELECT spec FROM operations WHERE kind = 'rebalance' ORDER BY createdAt DESC LIMIT 1").fetchone()[0])
    executed = (end - first_move) if first_move is not None else None
    limit = proposal.get("secondsAtThrottle")
    return {
        "flags": flags, "exit": code, "outcome": finished.get("outcome"), "hash": proposal.get("hash"),
        "moves": proposal.get("moves"), "replicaMoves": proposal.get("replicaMoves"),
        "bytesToCopy": proposal.get("bytesToCopy"), "busiestBroker": proposal.get("busiestBroker"),
        "busiestBrokerBytes": proposal.get("busiestBrokerBytes"), "physicalLimitSeconds": limit,
        "wallSeconds": round(end, 1), "executionSeconds": round(executed, 1) if executed else None,
        "ratio": round(executed / limit, 3) if executed and limit else None,
        "stderr": open(state + ".err").read()[-1500:] if code else "",
    }, spec


def check_placement(admin, spec):
    now = placement(admin)
    wrong = []
    for m in spec["moves"]:
        tp = m["topicPartition"]
        if tp["topic"] != TOPIC:
            continue
        replicas, leader, _ = now[tp["partition"]]
        if replicas != m["newReplicas"] or leader != m["newReplicas"][0]:
            wrong.append({"partition": tp["partition"], "now": replicas, "leader": leader,
                          "proposed": m["newReplicas"]})
    return wrong


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--throttle", type=int, default=1_000_000, help="bytes/s")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--fill-mb", type=int, default=60, help="data written before the rebalance")
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--value-bytes", type=int, default=1000)
    ap.add_argument("--ballast", default=os.path.join(HERE, "../.build/debug/ballast"))
    args = ap.parse_args()
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    prepare(admin, args.bootstrap, args.partitions, args.fill_mb)
    log("placement before:", placement(admin))
    producer = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "acks-all-producer.py"), "--bootstrap", args.bootstrap,
         "--topics", TOPIC, "--rate", str(args.rate), "--value-bytes", str(args.value_bytes)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if producer.stdout.readline().strip() != "ready":
        raise SystemExit("the producer never had a message acknowledged")
    time.sleep(5)
    state = f"/tmp/ballast-realkafka-rebalance-{os.getpid()}"
    for flags in (["--mode", "add-brokers", "--brokers", "4,5,6"], ["--mode", "remove-brokers", "--brokers", "6"]):
        result, spec = rebalance(args, flags, state)
        result["placementNotAsProposed"] = check_placement(admin, spec)
        result["throttleConfigsLeft"] = throttle_configs(args.bootstrap)
        result["placementAfter"] = {p: r for p, (r, _, _) in sorted(placement(admin).items())}
        print(json.dumps(result, sort_keys=True), flush=True)
    time.sleep(3)
    producer.terminate()
    out, _ = producer.communicate(timeout=120)
    summary = json.loads(out.strip().splitlines()[-1])
    print(json.dumps({"producer": summary}, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
