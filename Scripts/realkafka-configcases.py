#!/usr/bin/env python3
"""Dynamic broker config behaviour of real Kafka 4.1 (kafka-configs.sh, IncrementalAlterConfigs).

Runs each case with kafka-configs.sh --alter against the loopback harness, records whether Kafka
accepted it or the exact error, reverts everything it set, then checks precedence (a key set at the
cluster default and at one broker) with --describe --all. Writes
Tests/Fixtures/real-kafka-4.1/config-cases.json, config-precedence.json and the raw describe
outputs under Tests/Fixtures/real-kafka-4.1/describe/.
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("TMPDIR", "/tmp"), "realkafka/kafka_2.13-4.1.0/bin")
BS = os.environ.get("BS", "127.0.0.1:19093")
TABLES = os.path.join(ROOT, "Tests/Fixtures/real-kafka-4.1")
ENV = dict(os.environ, KAFKA_HEAP_OPTS="-Xmx256m")
AL = "[PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19192]"  # broker 1's static value

B, D = "broker", "default"
# (level, broker, key, value, note); value None means --delete-config
CASES = [
    # read-only keys
    (B, 1, "log.dirs", "/tmp/elsewhere", "read-only"),
    (D, None, "log.dirs", "/tmp/elsewhere", "read-only"),
    (B, 1, "node.id", "7", "read-only"),
    (D, None, "node.id", "7", "read-only"),
    (B, 1, "broker.rack", "rack-z", "read-only"),
    (D, None, "broker.rack", "rack-z", "read-only"),
    (B, 1, "process.roles", "broker", "read-only"),
    (B, 1, "num.partitions", "3", "read-only (not in DynamicBrokerConfig)"),
    # per-broker-only keys
    (D, None, "ssl.keystore.location", "/tmp/ks.jks", "per-broker"),
    (B, 1, "ssl.keystore.location", "/tmp/ks.jks", "per-broker"),
    (D, None, "listener.name.plaintext.ssl.keystore.location", "/tmp/ks.jks", "per-broker"),
    (B, 1, "listener.name.plaintext.ssl.keystore.location", "/tmp/ks.jks", "per-broker"),
    (D, None, "advertised.listeners", AL, "per-broker"),
    (B, 1, "advertised.listeners", AL, "per-broker (same value as static)"),
    # cluster-wide keys
    (B, 1, "log.retention.ms", "604800000", "cluster-wide"),
    (D, None, "log.retention.ms", "604800000", "cluster-wide"),
    (B, 1, "log.retention.hours", "100", "cluster-wide synonym of log.retention.ms"),
    (D, None, "log.retention.hours", "100", "cluster-wide synonym of log.retention.ms"),
    (B, 1, "log.roll.hours", "24", "cluster-wide"),
    (D, None, "log.roll.hours", "24", "cluster-wide"),
    (B, 1, "message.max.bytes", "2000000", "cluster-wide"),
    (D, None, "message.max.bytes", "2000000", "cluster-wide"),
    (B, 1, "log.cleaner.threads", "2", "cluster-wide"),
    (D, None, "log.cleaner.threads", "2", "cluster-wide"),
    (B, 1, "num.io.threads", "8", "cluster-wide, static 4: double = upper bound"),
    (B, 1, "num.io.threads", "9", "cluster-wide, static 4: above double"),
    (B, 1, "num.io.threads", "2", "cluster-wide, static 4: half = lower bound"),
    (B, 1, "num.io.threads", "1", "cluster-wide, static 4: below half"),
    (D, None, "num.io.threads", "6", "cluster-wide, within bounds"),
    (D, None, "num.io.threads", "20", "cluster-wide, above double"),
    (B, 4, "num.io.threads", "9", "cluster-wide, broker-only node, above double"),
    (B, 1, "num.network.threads", "7", "cluster-wide, static 3: above double"),
    (B, 1, "background.threads", "20", "cluster-wide, default 10: double"),
    (B, 1, "background.threads", "4", "cluster-wide, default 10: below half"),
    (D, None, "background.threads", "5", "cluster-wide, default 10: half"),
    (B, 1, "max.connections", "1000", "cluster-wide"),
    (D, None, "max.connections", "1000", "cluster-wide"),
    (B, 1, "listener.name.plaintext.max.connections", "500", "per-listener"),
    (D, None, "listener.name.plaintext.max.connections", "500", "per-listener"),
    (B, 1, "min.insync.replicas", "2", "cluster-wide (ELR enabled)"),
    (D, None, "min.insync.replicas", "2", "cluster-wide (ELR enabled); reverted to 1"),
    (B, 1, "unclean.leader.election.enable", "true", "cluster-wide"),
    (D, None, "unclean.leader.election.enable", "true", "cluster-wide"),
    (B, 1, "log.segment.bytes", "33554432", "cluster-wide"),
    (D, None, "compression.type", "zstd", "cluster-wide"),
    # invalid values
    (B, 1, "log.retention.ms", "-5", "invalid: negative (only -1 means unlimited)"),
    (D, None, "log.retention.ms", "abc", "invalid: non-numeric"),
    (B, 1, "num.io.threads", "-1", "invalid: negative"),
    (B, 1, "message.max.bytes", "abc", "invalid: non-numeric"),
    (D, None, "log.cleaner.threads", "0", "invalid: below minimum 1?"),
    (D, None, "unclean.leader.election.enable", "maybe", "invalid: non-boolean"),
    (D, None, "compression.type", "brotli", "invalid: not in enum"),
    # unknown / misplaced keys
    (B, 1, "no.such.config", "1", "unknown key"),
    (D, None, "no.such.config", "1", "unknown key"),
    (B, 1, "retention.ms", "1000", "topic-level name at broker level"),
    # deletes of keys that are not set
    (D, None, "log.retention.ms", None, "delete a key that is not set"),
    (B, 1, "no.such.config", None, "delete an unknown key"),
    (B, 1, "log.dirs", None, "delete a read-only key"),
]


def run_configs(*args):
    r = subprocess.run([BIN + "/kafka-configs.sh", "--bootstrap-server", BS, *args],
                       env=ENV, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def entity(level, broker):
    return ["--entity-type", "brokers"] + (["--entity-default"] if level == D else ["--entity-name", str(broker)])


def error_of(out):
    """The exception line(s) of a kafka-configs.sh failure, without the stack trace."""
    lines = [l for l in out.splitlines() if l.strip() and not l.startswith("\tat ") and not l.startswith("\t... ")]
    exc = [l for l in lines if re.match(r"^[\w.$]+(Exception|Error)\b", l) or l.startswith("Caused by:")]
    if exc:
        return " | ".join(dict.fromkeys(exc))
    return " | ".join(lines[-3:]) if lines else "no output"


def alter(level, broker, key, value):
    op = ["--add-config", "%s=%s" % (key, value)] if value is not None else ["--delete-config", key]
    rc, out, err = run_configs("--alter", *entity(level, broker), *op)
    ok = rc == 0 and "Completed updating" in out
    return {
        "level": level, "broker": broker, "op": "set" if value is not None else "delete",
        "key": key, "value": value, "accepted": ok,
        "error": None if ok else error_of(out + "\n" + err),
    }


def describe_all(broker, name):
    rc, out, err = run_configs("--describe", "--all", *entity(B, broker))
    os.makedirs(os.path.join(TABLES, "describe"), exist_ok=True)
    with open(os.path.join(TABLES, "describe", name), "w") as f:
        f.write(out)
    return out


def parse_line(out, key):
    for l in out.splitlines():
        m = re.match(r"^\s+%s=(.*?) sensitive=(\w+) synonyms=\{(.*)\}$" % re.escape(key), l)
        if m:
            syn = []
            for s in filter(None, [x.strip() for x in re.split(r", (?=[A-Z_]+:)", m.group(3))]):
                src, kv = s.split(":", 1)
                k, v = kv.split("=", 1)
                syn.append({"source": src, "name": k, "value": v})
            return {"key": key, "value": m.group(1), "sensitive": m.group(2) == "true",
                    "source": syn[0]["source"] if syn else None, "synonyms": syn, "line": l.strip()}
    return None


def main():
    os.makedirs(TABLES, exist_ok=True)
    results = []
    for level, broker, key, value, note in CASES:
        r = alter(level, broker, key, value)
        r["note"] = note
        print(json.dumps(r), flush=True)
        results.append(r)
        if r["accepted"] and value is not None:
            if key == "min.insync.replicas" and level == D:
                back = alter(level, broker, key, "1")  # the cluster starts with this dynamic default
            else:
                back = alter(level, broker, key, None)
            back["note"] = "revert of the case above"
            print(json.dumps(back), flush=True)
            results.append(back)
    with open(os.path.join(TABLES, "config-cases.json"), "w") as f:
        json.dump(results, f, indent=1)

    # precedence: a key at default and at one broker
    prec = {"method": "kafka-configs.sh --bootstrap-server %s --describe --all --entity-type brokers --entity-name N "
                      "(Java AdminClient DescribeConfigs with includeSynonyms=true)" % BS, "steps": []}
    keys = ["log.retention.ms", "log.retention.hours", "log.roll.hours", "log.cleaner.threads", "num.io.threads",
            "min.insync.replicas", "message.max.bytes", "log.dirs", "broker.rack", "advertised.listeners",
            "log.segment.bytes", "max.connections"]

    def snapshot(label):
        step = {"state": label, "brokers": {}}
        for n in (2, 3):
            out = describe_all(n, "broker-%d-%s.txt" % (n, label))
            step["brokers"][str(n)] = [parse_line(out, k) for k in keys]
        prec["steps"].append(step)

    snapshot("baseline")
    sets = [alter(D, None, "log.retention.ms", "86400000"), alter(B, 2, "log.retention.ms", "43200000"),
            alter(D, None, "log.cleaner.threads", "2"), alter(B, 2, "log.roll.hours", "12"),
            alter(D, None, "log.retention.hours", "200")]
    prec["set"] = sets
    snapshot("default-and-broker2-set")
    prec["revert"] = [alter(D, None, "log.retention.ms", None), alter(B, 2, "log.retention.ms", None),
                      alter(D, None, "log.cleaner.threads", None), alter(B, 2, "log.roll.hours", None),
                      alter(D, None, "log.retention.hours", None)]
    snapshot("reverted")
    with open(os.path.join(TABLES, "config-precedence.json"), "w") as f:
        json.dump(prec, f, indent=1)
    # leftovers check
    left = {}
    for n in [None, 1, 2, 3, 4, 5, 6]:
        rc, out, err = run_configs("--describe", *entity(D if n is None else B, n))
        left["default" if n is None else str(n)] = out.strip()
    with open(os.path.join(TABLES, "describe", "dynamic-after-revert.json"), "w") as f:
        json.dump(left, f, indent=1)
    print(json.dumps(left, indent=1))


if __name__ == "__main__":
    main()
