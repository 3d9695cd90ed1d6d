#!/usr/bin/python3
"""Rolls the real Kafka harness three ways under the same acks=all load and prints one JSON line per roll.

  ballast   `ballast roll` through a `ballast agent --driver process` (safe batches, catch-up, leaders)
  careful   one node at a time through the same agent, waiting for no under-replicated partitions first
  naive     one node at a time through the same agent, the next as soon as the previous one is up

Needs the 6-node harness (RK_BROKERS=3 shared/tools/realkafka/cluster.sh start) and an agent that manages its
nodes; see docs/roller.md "Rolling real Kafka". Run with Debian's /usr/bin/python3 (confluent-kafka).

  realkafka-roll-compare.py --bootstrap B --agent URL --mode careful --throttle 204800
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA_BIN = os.path.join(os.environ.get("TMPDIR", "/tmp"), "realkafka/kafka_2.13-4.1.0/bin")
TOPICS = ["roll-0", "roll-1", "roll-2"]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def kafka_tool(name, *args):
    subprocess.run([os.path.join(KAFKA_BIN, name), *args], check=True, stdout=subprocess.DEVNULL)


class Agent:
    def __init__(self, url, token):
        self.url, self.token = url.rstrip("/"), token

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method, data=body)
        req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def restart(self, node):
        op = self.call("POST", f"/v1/nodes/{node}/restart", b"{}")
        while op["state"] == "running":
            time.sleep(0.2)
            op = self.call("GET", f"/v1/operations/{op['id']}")
        if op["state"] != "done":
            raise SystemExit(f"restart of node {node} failed: {op.get('error')}")


def health(admin):
    """(under-replicated partitions, partitions whose leader is not the preferred one), over all topics."""
    md = admin.list_topics(timeout=10)
    urp = not_preferred = 0
    for t in md.topics.values():
        for p in t.partitions.values():
            urp += len(p.isrs) < len(p.replicas)
            not_preferred += bool(p.replicas) and p.leader != p.replicas[0]
    return urp, not_preferred


def wait_healthy(admin, poll, timeout=900):
    deadline = time.monotonic() + timeout
    while health(admin)[0]:
        if time.monotonic() > deadline:
            raise SystemExit("partitions stayed under-replicated for 15 minutes")
        time.sleep(poll)


def prepare(admin, bootstrap, throttle):
    existing = admin.list_topics(timeout=10).topics
    new = [
        NewTopic(t, num_partitions=6, replication_factor=3, config={"min.insync.replicas": "2"})
        for t in TOPICS
        if t not in existing
    ]
    if new:
        for f in admin.create_topics(new).values():
            f.result()
        time.sleep(2)
    # Throttle every replica's catch-up (Kafka throttles only replicas out of ISR), or remove the throttle.
    # Kafka's own tool, so the settings are incremental and nothing else of the topics' configs is touched.
    if throttle:
        rate = f"leader.replication.throttled.rate={throttle},follower.replication.throttled.rate={throttle}"
        kafka_tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--entity-type", "brokers",
                   "--entity-default", "--alter", "--add-config", rate)
        for t in TOPICS:
            kafka_tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--entity-type", "topics",
                       "--entity-name", t, "--alter", "--add-config",
                       "leader.replication.throttled.replicas=*,follower.replication.throttled.replicas=*")
    else:
        described = admin.describe_configs([ConfigResource("broker", "1")])
        rate = list(described.values())[0].result().get("leader.replication.throttled.rate")
        if rate is not None and not rate.is_default:
            kafka_tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--entity-type", "brokers",
                       "--entity-default", "--alter", "--delete-config",
                       "leader.replication.throttled.rate,follower.replication.throttled.rate")
    wait_healthy(admin, 0.5)
    if health(admin)[1]:
        kafka_tool("kafka-leader-election.sh", "--bootstrap-server", bootstrap, "--election-type", "preferred",
                   "--all-topic-partitions")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--mode", choices=["ballast", "careful", "naive"], required=True)
    ap.add_argument("--throttle", type=int, default=0, help="replication throttle, bytes/s (0: none)")
    ap.add_argument("--nodes", default="1,2,3,4,5,6", help="the order of the one-at-a-time rolls")
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--value-bytes", type=int, default=1000)
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--warmup", type=float, default=15)
    ap.add_argument("--ballast", default=os.path.join(HERE, "../.build/release/ballast"))
    ap.add_argument("--ballast-args", default="", help="extra flags for ballast roll")
    args = ap.parse_args()
    token = os.environ["BALLAST_AGENT_TOKEN"]
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    agent = Agent(args.agent, token)

    log(f"preparing: topics {TOPICS}, throttle {args.throttle}")
    prepare(admin, args.bootstrap, args.throttle)
    producer = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "acks-all-producer.py"), "--bootstrap", args.bootstrap,
         "--topics", ",".join(TOPICS), "--rate", str(args.rate), "--value-bytes", str(args.value_bytes)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if producer.stdout.readline().strip() != "ready":
        raise SystemExit("the producer never had a message acknowledged")
    time.sleep(args.warmup)

    log(f"rolling: {args.mode}")
    result = {"mode": args.mode, "throttle": args.throttle}
    start = time.monotonic()
    if args.mode == "ballast":
        state = f"/tmp/ballast-roll-compare-{os.getpid()}"
        roll = subprocess.Popen(
            [args.ballast, "roll", "--bootstrap", args.bootstrap, "--agent", args.agent, "--state-dir", state,
             "--json", *args.ballast_args.split()],
            stdout=subprocess.PIPE, stderr=open(state + ".err", "w"), text=True)
        events = []  # (seconds since the roll began, event)
        for line in roll.stdout:
            if line.startswith("{"):
                events.append((time.monotonic() - start, json.loads(line)))
        result["exit"] = roll.wait()
        stderr = open(state + ".err").read()
        result["batches"] = [e["nodes"] for _, e in events if e.get("event") == "batchStarted"]
        # Seconds each batch spent in its restarts (the agent's part) and in all (restarts, catch-up, leaders).
        result["restartSeconds"], result["batchSeconds"] = [], []
        begun = restarted = 0
        for t, e in events:
            if e.get("event") == "batchStarted":
                begun = t
            elif e.get("event") == "restarted":
                restarted = t
            elif e.get("event") == "batchDone":
                result["restartSeconds"].append(round(restarted - begun, 1))
                result["batchSeconds"].append(round(t - begun, 1))
        if result["exit"] != 0:
            result["stderr"] = stderr[-2000:]
    else:
        nodes = [int(n) for n in args.nodes.split(",")]
        for n in nodes:
            if args.mode == "careful":
                wait_healthy(admin, args.poll)
            log(f"restarting node {n}")
            begun = time.monotonic()
            agent.restart(n)
            result.setdefault("restartSeconds", []).append(round(time.monotonic() - begun, 1))
        if args.mode == "careful":
            wait_healthy(admin, args.poll)
        result["batches"] = [[n] for n in nodes]
    result["wallSeconds"] = round(time.monotonic() - start, 1)
    urp, not_preferred = health(admin)
    result["underReplicatedAtEnd"] = urp
    result["notPreferredLeadersAtEnd"] = not_preferred
    time.sleep(3)
    producer.terminate()
    out, _ = producer.communicate(timeout=120)
    result["producer"] = json.loads(out.strip().splitlines()[-1])
    result["producer"].pop("first_failures", None) if not result["producer"]["failed"] else None
    print(json.dumps(result, sort_keys=True), flush=True)
    if args.mode != "naive":
        wait_healthy(admin, 0.5)


if __name__ == "__main__":
    main()
