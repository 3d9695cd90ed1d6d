#!/usr/bin/python3
"""Rolls the real Kafka harness under the same acks=all load, interleaving ways of rolling, and prints one JSON
line per roll and a summary.

  careful      `ballast roll --max-batch 1`: one node at a time, each only once the previous one is back in sync
  ballast      `ballast roll` with its defaults (safe batches, catch-up-aware sizing, progressive leader restore)
  ballast-lift `ballast roll --catch-up-throttle lift` (the remedy: throttles holding a batch back lifted while it
               catches up, put back exactly afterwards); only run in scenarios with a throttle
  naive        one node at a time through the same agent, the next as soon as the previous one is up

One invocation runs --repeat rounds; each round runs every scenario of --scenarios (a replication throttle in bytes/s,
0 for none) and in each the modes of --modes in turn (careful, ballast, ballast-lift, then the next scenario), so
each scenario's rolls interleave (careful, ballast, ballast-lift, careful, ballast, …), all on one cluster:
between rolls the throttle is set again, the cluster waits until nothing is under-replicated and the preferred
leaders lead. Each roll has its own producer (Scripts/acks-all-producer.py: acks=all, retries off,
--message-timeout-ms), started --warmup seconds before the roll and stopped 3 s after it. Before and after each
roll the throttle configs are read (every broker's leader./follower.replication.throttled.rate with its source,
every topic's *.replication.throttled.replicas): `throttlesUnchanged` says whether they are the same.

Per Ballast roll: its batches, each batch's restart seconds (batchStarted to the last `restarted`) and catch-up
seconds (the last `registered` to `batchDone`: back in ISR and leaders restored), the `batchSized` decisions, the
`stalled` diagnoses and the throttles lifted.

Needs the 6-node harness and an agent that restarts its nodes: Scripts/realkafka-roll-session.sh sets both up
and runs this script under the harness's lock. Run with Debian's /usr/bin/python3 (confluent-kafka).

  realkafka-roll-compare.py --bootstrap B --agent URL --scenarios 163840,0 --modes careful,ballast,ballast-lift
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA_BIN = os.path.join(os.environ.get("TMPDIR", "/tmp"), "realkafka/kafka_2.13-4.1.0/bin")
TOPICS = ["roll-0", "roll-1", "roll-2"]
RATE_KEYS = ["leader.replication.throttled.rate", "follower.replication.throttled.rate"]
LIST_KEYS = ["leader.replication.throttled.replicas", "follower.replication.throttled.replicas"]


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


def source_name(entry):
    """The config's source (DYNAMIC_BROKER_CONFIG, …): confluent-kafka 2.0 gives it as a number."""
    source = entry.source
    return ConfigSource(source).name if isinstance(source, int) else source.name


def throttled(admin, throttle):
    """Whether the throttle of the scenario is already set: the cluster-default rates (as broker 1 sees them) and
    every topic's lists."""
    rates = admin.describe_configs([ConfigResource("broker", "1")])
    entries = list(rates.values())[0].result()
    for k in RATE_KEYS:
        e = entries.get(k)
        if e is None or e.value != str(throttle) or source_name(e) != "DYNAMIC_DEFAULT_BROKER_CONFIG":
            return False
    topics = admin.describe_configs([ConfigResource("topic", t) for t in TOPICS])
    for future in topics.values():
        entries = future.result()
        if any(entries.get(k) is None or entries[k].value != "*" for k in LIST_KEYS):
            return False
    return True


def throttle_configs(admin, brokers):
    """Every throttle config as DescribeConfigs shows it: {"broker 1 leader...rate": "value (SOURCE)", ...}."""
    resources = [ConfigResource("broker", str(b)) for b in brokers] + [ConfigResource("topic", t) for t in TOPICS]
    out = {}
    # librdkafka takes one broker resource per DescribeConfigs call.
    answers = {}
    for resource in resources:
        answers.update(admin.describe_configs([resource]))
    for resource, future in answers.items():
        keys = RATE_KEYS if resource.restype == ConfigResource.Type.BROKER else LIST_KEYS
        entries = future.result()
        for k in keys:
            e = entries.get(k)
            out[f"{resource.restype.name.lower()} {resource.name} {k}"] = (
                f"{e.value} ({source_name(e)})" if e is not None else "absent")
    return out


def prepare(admin, bootstrap, throttle):
    existing = admin.list_topics(timeout=10).topics
    new = [
        NewTopic(t, num_partitions=6, replication_factor=3,
                 config={"min.insync.replicas": "2", "retention.bytes": "200000000", "segment.bytes": "50000000"})
        for t in TOPICS
        if t not in existing
    ]
    if new:
        for f in admin.create_topics(new).values():
            f.result()
        time.sleep(2)
    # Throttle every replica's catch-up (Kafka throttles only replicas out of ISR, but counts in-sync followers'
    # bytes in the leader's quota), or remove the throttle. Kafka's own tool, so the settings are incremental and
    # nothing else of the topics' configs is touched.
    if throttle and not throttled(admin, throttle):
        rate = f"leader.replication.throttled.rate={throttle},follower.replication.throttled.rate={throttle}"
        kafka_tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--entity-type", "brokers",
                   "--entity-default", "--alter", "--add-config", rate)
        for t in TOPICS:
            kafka_tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--entity-type", "topics",
                       "--entity-name", t, "--alter", "--add-config",
                       "leader.replication.throttled.replicas=*,follower.replication.throttled.replicas=*")
    elif not throttle:
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
        deadline = time.monotonic() + 60
        while health(admin)[1] and time.monotonic() < deadline:
            time.sleep(0.5)


def ballast_roll(args, flags, start):
    """Runs `ballast roll --json` with `flags`; returns its exit code, events [(seconds, event)] and stderr tail."""
    state = tempfile.mkdtemp(prefix="ballast-roll-compare-")
    cmd = [args.ballast, "roll", "--bootstrap", args.bootstrap, "--agent", args.agent, "--state-dir", state,
           "--json", *flags]
    log(" ".join(cmd[1:]))
    err = open(os.path.join(state, "stderr"), "w")
    roll = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    events = []
    for line in roll.stdout:
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        t = time.monotonic() - start
        events.append((t, e))
        kind = e.get("event")
        if kind in ("batchStarted", "batchDone", "batchSized", "stalled", "throttlesLifted", "throttlesRestored",
                    "failed", "finished", "warning"):
            log(round(t, 1), kind, e.get("nodes") or e.get("message") or e.get("throttles") or "")
    code = roll.wait()
    err.close()
    return code, events, open(os.path.join(state, "stderr")).read()[-2000:]


def batch_figures(events):
    """Per batch: its nodes, restart seconds and catch-up seconds."""
    batches, current = [], None
    for t, e in events:
        kind = e.get("event")
        if kind == "batchStarted":
            current = {"nodes": e["nodes"], "begun": t, "restarted": t, "registered": t}
        elif current is None:
            continue
        elif kind == "restarted":
            current["restarted"] = t
        elif kind == "registered":
            current["registered"] = t
        elif kind == "batchDone":
            batches.append({
                "nodes": current["nodes"],
                "restartSeconds": round(current["restarted"] - current["begun"], 1),
                "catchUpSeconds": round(t - current["registered"], 1),
                "seconds": round(t - current["begun"], 1),
            })
            current = None
    return batches


def one_roll(args, admin, agent, brokers, mode, throttle):
    log(f"preparing: topics {TOPICS}, throttle {throttle}")
    prepare(admin, args.bootstrap, throttle)
    before = throttle_configs(admin, brokers)
    producer = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "acks-all-producer.py"), "--bootstrap", args.bootstrap,
         "--topics", ",".join(TOPICS), "--rate", str(args.rate), "--value-bytes", str(args.value_bytes),
         "--message-timeout-ms", str(args.message_timeout_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if producer.stdout.readline().strip() != "ready":
        raise SystemExit("the producer never had a message acknowledged")
    time.sleep(args.warmup)

    log(f"rolling: {mode}, throttle {throttle}")
    result = {"mode": mode, "throttle": throttle, "at": time.strftime("%H:%M:%S", time.gmtime()),
              "load": round(os.getloadavg()[0], 1),
              # The brokers' JVM flags (cluster.sh passes the environment on): "default" is Kafka's own.
              "jvm": os.environ.get("KAFKA_JVM_PERFORMANCE_OPTS", "default")}
    start = time.monotonic()
    if mode == "naive":
        nodes = [int(n) for n in args.nodes.split(",")]
        for n in nodes:
            log(f"restarting node {n}")
            agent.restart(n)
        result["batches"] = [[n] for n in nodes]
    else:
        flags = {"careful": ["--max-batch", "1"], "ballast": [], "ballast-lift": ["--catch-up-throttle", "lift"]}
        code, events, stderr = ballast_roll(args, flags[mode] + args.ballast_args.split(), start)
        result["exit"] = code
        result["batchFigures"] = batch_figures(events)
        result["batches"] = [b["nodes"] for b in result["batchFigures"]]
        result["sized"] = [{k: e.get(k) for k in ("nodes", "planned", "catchUpSeconds", "oneByOneSeconds",
                                                   "bottleneck")}
                           for _, e in events if e.get("event") == "batchSized"]
        result["stalled"] = [e.get("message") for _, e in events if e.get("event") == "stalled"]
        result["throttlesLifted"] = sum(len(e.get("throttles") or []) for _, e in events
                                        if e.get("event") == "throttlesLifted")
        if code != 0:
            result["stderr"] = stderr
    result["wallSeconds"] = round(time.monotonic() - start, 1)
    urp, not_preferred = health(admin)
    result["underReplicatedAtEnd"] = urp
    result["notPreferredLeadersAtEnd"] = not_preferred
    time.sleep(3)
    producer.terminate()
    out, _ = producer.communicate(timeout=args.message_timeout_ms / 1000 + 60)
    result["producer"] = json.loads(out.strip().splitlines()[-1])
    if not result["producer"]["failed"]:
        result["producer"].pop("first_failures", None)
    after = throttle_configs(admin, brokers)
    result["throttlesUnchanged"] = before == after
    if before != after:
        result["throttlesBefore"], result["throttlesAfter"] = before, after
    print(json.dumps(result, sort_keys=True), flush=True)
    return result


def summary(results):
    """Per scenario: median wall time per mode, and each Ballast roll's ratio to the careful roll before it."""
    out = []
    for throttle in sorted({r["throttle"] for r in results}, reverse=True):
        rs = [r for r in results if r["throttle"] == throttle]
        line = {"throttle": throttle, "median": {}, "ratios": {}, "failed": {}}
        for mode in dict.fromkeys(r["mode"] for r in rs):
            walls = [r["wallSeconds"] for r in rs if r["mode"] == mode]
            line["median"][mode] = round(statistics.median(walls), 1)
            line["failed"][mode] = [r["producer"]["failed"] for r in rs if r["mode"] == mode]
        careful = None
        for r in rs:
            if r["mode"] == "careful":
                careful = r["wallSeconds"]
            elif careful:
                line["ratios"].setdefault(r["mode"], []).append(round(r["wallSeconds"] / careful, 2))
        out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--scenarios", default="163840,0", help="throttles in bytes/s, in order (0: no throttle)")
    ap.add_argument("--modes", default="careful,ballast,ballast-lift",
                    help="interleaved in this order in every scenario (careful, ballast, ballast-lift, naive)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--nodes", default="1,2,3,4,5,6", help="the order of the naive roll")
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--value-bytes", type=int, default=1000)
    ap.add_argument("--message-timeout-ms", type=int, default=30000)
    ap.add_argument("--warmup", type=float, default=15)
    ap.add_argument("--ballast", default=os.path.join(HERE, "../.build/release/ballast"))
    ap.add_argument("--ballast-args", default="", help="extra flags for every ballast roll")
    ap.add_argument("--out", help="also append every JSON line to this file")
    args = ap.parse_args()
    modes = args.modes.split(",")
    unknown = set(modes) - {"careful", "ballast", "ballast-lift", "naive"}
    if unknown:
        ap.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    token = os.environ["BALLAST_AGENT_TOKEN"]
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    agent = Agent(args.agent, token)
    brokers = sorted(b.id for b in admin.list_topics(timeout=10).brokers.values())
    results = []
    # Round after round, each round every scenario: a session cut short still has every scenario.
    for _ in range(args.repeat):
        for throttle in [int(s) for s in args.scenarios.split(",")]:
            for mode in modes:
                if mode == "ballast-lift" and not throttle:
                    continue
                try:
                    result = one_roll(args, admin, agent, brokers, mode, throttle)
                    results.append(result)
                except Exception as error:  # one broken roll is reported; the session goes on
                    log(f"{mode} roll failed: {error!r}")
                    result = {"mode": mode, "throttle": throttle, "error": repr(error)}
                    print(json.dumps(result, sort_keys=True), flush=True)
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(json.dumps(result, sort_keys=True) + "\n")
    for line in summary(results):
        print(json.dumps({"summary": line}, sort_keys=True), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps({"summary": line}, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
