#!/usr/bin/env python3
"""Measures broker lifecycle timings on the real Kafka 4.1 loopback harness (cluster.sh, RK_BROKERS=3).

Usage: realkafka-timings.py SCENARIO [NODE]     scenarios: stop, kill, start, quorum-stop
Prints one JSON object per scenario and appends it to $WORK/timings.jsonl.

State is polled with `kcat -L -J` (librdkafka metadata: brokers, leader, replicas, ISR per
partition) every POLL seconds, so times have that resolution plus kcat's own ~50-100 ms.
t=0 is the moment the cluster.sh command is issued.
"""

import json
import os
import subprocess
import sys
import threading
import time

CLUSTER = "/work/shared/tools/realkafka/cluster.sh"
BIN = os.path.join(os.environ.get("TMPDIR", "/tmp"), "realkafka/kafka_2.13-4.1.0/bin")
WORK = os.environ.get("WORK", "/tmp/realkafka-timings")
TOPIC = os.environ.get("TOPIC", "timing-topic")
POLL = 0.25
ENV = dict(os.environ, RK_BROKERS="3")  # brokers keep cluster.sh's default heap
ALL = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094,127.0.0.1:19095,127.0.0.1:19096,127.0.0.1:19097"


def metadata(exclude=None):
    bs = ",".join(b for b in ALL.split(",") if exclude is None or not b.endswith(str(19091 + exclude)))
    try:
        out = subprocess.run(
            ["kcat", "-L", "-J", "-m", "3", "-b", bs, "-t", TOPIC],
            capture_output=True, text=True, timeout=8,
        ).stdout
        d = json.loads(out)
    except (subprocess.TimeoutExpired, ValueError):
        return None
    parts = d["topics"][0]["partitions"]
    return {
        "brokers": sorted(b["id"] for b in d["brokers"]),
        "leaders": {p["partition"]: p["leader"] for p in parts},
        "replicas": {p["partition"]: [r["id"] for r in p["replicas"]] for p in parts},
        "isr": {p["partition"]: [r["id"] for r in p["isrs"]] for p in parts},
    }


def cluster(*args):
    return subprocess.run([CLUSTER, *args], env=ENV, capture_output=True, text=True)


def watch(node, checks, action, timeout):
    """Runs action() in a thread at t=0 and polls metadata; records the first time each check holds."""
    found = {}
    samples = []
    result = {}
    t0 = time.monotonic()

    def run_action():
        r = action()
        result["action_returned_s"] = round(time.monotonic() - t0, 2)
        result["action_output"] = (r.stderr or "")[-600:]

    th = threading.Thread(target=run_action)
    th.start()
    while time.monotonic() - t0 < timeout and (len(found) < len(checks) or th.is_alive()):
        m = metadata(exclude=node)
        t = round(time.monotonic() - t0, 2)
        if m:
            samples.append({"t": t, "brokers": m["brokers"],
                            "led_by_node": sum(1 for l in m["leaders"].values() if l == node),
                            "isr_with_node": sum(1 for i in m["isr"].values() if node in i),
                            "under_replicated": sum(1 for p, i in m["isr"].items() if len(i) < len(m["replicas"][p]))})
            for name, pred in checks.items():
                if name not in found and pred(m):
                    found[name] = t
        time.sleep(POLL)
    th.join()
    result.update({k: found.get(k) for k in checks})
    # compress samples: keep those where something changed
    kept, last = [], None
    for s in samples:
        key = (s["brokers"], s["led_by_node"], s["isr_with_node"], s["under_replicated"])
        if key != last:
            kept.append(s)
            last = key
    result["transitions"] = kept
    return result


def replicas_of(node, m):
    return [p for p, r in m["replicas"].items() if node in r]


def main():
    scenario = sys.argv[1]
    node = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    os.makedirs(WORK, exist_ok=True)
    before = metadata()
    mine = replicas_of(node, before)
    out = {"scenario": scenario, "node": node, "topic": TOPIC, "time": time.strftime("%H:%M:%S"),
           "partitions_with_node_as_replica": len(mine),
           "partitions_led_by_node_before": sum(1 for l in before["leaders"].values() if l == node)}
    if scenario in ("stop", "kill"):
        checks = {
            "no_leadership_s": lambda m: all(m["leaders"][p] != node for p in m["leaders"]),
            "out_of_all_isr_s": lambda m: all(node not in i for i in m["isr"].values()),
            "gone_from_metadata_brokers_s": lambda m: node not in m["brokers"],
        }
        cmd = "stop-node" if scenario == "stop" else "kill-node"
        out.update(watch(node, checks, lambda: cluster(cmd, str(node)), 90))
    elif scenario == "start":
        checks = {
            "in_metadata_brokers_s": lambda m: node in m["brokers"],
            "first_isr_rejoin_s": lambda m: any(node in m["isr"][p] for p in mine),
            "all_isr_rejoined_s": lambda m: all(node in m["isr"][p] for p in mine),
            "leads_again_s": lambda m: any(l == node for l in m["leaders"].values()),
        }
        out.update(watch(node, checks, lambda: cluster("start-node", str(node)), 60))
    else:
        raise SystemExit("unknown scenario " + scenario)
    out["after"] = {"leaders_by_node": {}, "isr_sizes": {}}
    m = metadata()
    if m:
        for l in m["leaders"].values():
            out["after"]["leaders_by_node"][str(l)] = out["after"]["leaders_by_node"].get(str(l), 0) + 1
        for i in m["isr"].values():
            out["after"]["isr_sizes"][str(len(i))] = out["after"]["isr_sizes"].get(str(len(i)), 0) + 1
    line = json.dumps(out)
    print(line)
    with open(os.path.join(WORK, "timings.jsonl"), "a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
