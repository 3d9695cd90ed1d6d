#!/usr/bin/env python3
"""Turns the frames captured by Scripts/realkafka-capture.sh into the golden fixture folder.

Reads $WORK/capture-index.jsonl (written by capture-proxy.py --raw --index) and copies chosen
request/response frame pairs to Tests/KafkaWireTests/Fixtures/real-kafka-4.1/ as
<Name>-v<V>.bin (and a few named variants <Name>-v<V>-<variant>.bin), then writes MANIFEST.md
there and Tests/Fixtures/real-kafka-4.1/api-versions.json (the broker's ApiVersions ranges next
to the validVersions of /work/shared/kafka-protocol). Stdlib only.
"""

import json
import os
import re
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", "/tmp/realkafka-capture")
OUT = os.path.join(ROOT, "Tests/KafkaWireTests/Fixtures/real-kafka-4.1")
TABLES = os.path.join(ROOT, "Tests/Fixtures/real-kafka-4.1")
PROTOCOL = "/work/shared/kafka-protocol"

# (response name, version) -> list of (variant suffix or "", label substring, nth match of that
# name+version within commands whose label contains the substring, or "largest"). Unlisted pairs: first capture.
RULES = {
    ("MetadataResponse", 13): [
        ("", "kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --list", 1),
        ("brokers-only", "kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --list", 0),
    ],
    ("MetadataResponse", 4): [
        ("", "kcat -L -b 127.0.0.1:19092", 1),
        ("brokers-only", "kcat -L -b 127.0.0.1:19092", 0),
    ],
    ("DescribeConfigsResponse", 4): [
        ("", "--describe --all --entity-type brokers --entity-name 1", 0),
        ("broker-default", "--describe --entity-type brokers --entity-default", 0),
        ("topic", "kafka-configs.sh --bootstrap-server 127.0.0.1:19092 --describe --entity-type topics", 0),
    ],
    ("ListPartitionReassignmentsResponse", 0): [
        ("", "kafka-reassign-partitions.sh --bootstrap-server 127.0.0.1:19092 --list", 0),
        ("in-progress", "in-progress", 0),
    ],
    ("ProduceResponse", 13): [("", "kafka-console-producer.sh --bootstrap-server 127.0.0.1:19092 --topic fixture-topic", 0),
                              ("not-enough-replicas", "minisr:", 0)],
    ("ProduceResponse", 7): [("", "kcat -P -b 127.0.0.1:19092 -t fixture-topic", 0),
                             ("not-enough-replicas", "minisr:", 0)],
    # a fetch that returned records (the first fetches of a consumer are often empty)
    ("FetchResponse", 18): [("", "kafka-console-consumer.sh", "largest")],
    ("FetchResponse", 11): [("", "kcat -C", "largest")],
    ("DescribeQuorumResponse", 2): [
        ("", "kafka-metadata-quorum.sh --bootstrap-server 127.0.0.1:19092 describe --status", 0),
        ("via-controller", "--bootstrap-controller", 0),
    ],
    ("DescribeClusterResponse", 2): [
        ("", "kafka-cluster.sh cluster-id", 0),
        ("via-controller", "--bootstrap-controller", 0),
    ],
}


def client_of(label):
    return "kcat 1.7.1 / librdkafka 2.0.2" if "kcat" in label else "Kafka 4.1.0 Java tools"


def read_index():
    recs = [json.loads(l) for l in open(os.path.join(WORK, "capture-index.jsonl"))]
    # pair requests with responses: same proxy pid (from raw name), connection and correlation id
    reqs = {}
    pairs = []
    for r in recs:
        pid = os.path.basename(r["raw"]).split("-")[0]
        key = (pid, r["conn"], r["correlation_id"])
        if r["direction"] == "request":
            reqs[key] = r
        elif key in reqs:
            pairs.append((reqs.pop(key), r))
    return pairs


def api_ranges(body):
    """Decodes ApiVersionsResponse v3+ (flexible body, v0 header): api_key -> (min, max)."""
    pos = 4  # correlation id
    (err,) = struct.unpack_from(">h", body, pos)
    pos += 2

    def uvarint():
        nonlocal pos
        shift = value = 0
        while True:
            b = body[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    n = uvarint() - 1
    out = {}
    for _ in range(n):
        k, lo, hi = struct.unpack_from(">hhh", body, pos)
        pos += 6
        for _ in range(uvarint()):  # tagged fields
            uvarint()
            pos += uvarint()
        out[k] = (lo, hi)
    return err, out


def protocol_specs():
    specs = {}
    for f in os.listdir(PROTOCOL):
        if f.endswith("Request.json"):
            d = json.loads(re.sub(r"//.*", "", open(os.path.join(PROTOCOL, f)).read()))
            specs[d["apiKey"]] = (d["name"][: -len("Request")], d.get("validVersions"))
    return specs


def main():
    pairs = read_index()
    for f in os.listdir(OUT) if os.path.isdir(OUT) else []:
        if f.endswith(".bin"):
            os.remove(os.path.join(OUT, f))
    os.makedirs(OUT, exist_ok=True)
    chosen = []  # (file base, request rec, response rec)
    seen_versions = []
    for req, resp in pairs:
        nv = (resp["name"], resp["version"])
        if nv not in seen_versions:
            seen_versions.append(nv)
    for nv in seen_versions:
        rules = RULES.get(nv, [("", "", 0)])
        for suffix, substr, nth in rules:
            matches = [(q, s) for q, s in pairs if (s["name"], s["version"]) == nv and substr in s["label"]]
            if nth == "largest":
                matches.sort(key=lambda m: -m[1]["size"])
                nth = 0
            if len(matches) <= nth:
                if suffix == "":
                    matches = [(q, s) for q, s in pairs if (s["name"], s["version"]) == nv]
                    nth = 0
                else:
                    continue
            q, s = matches[nth]
            base = "-v%d%s" % (nv[1], "-" + suffix if suffix else "")
            chosen.append((base, q, s))
    rows = []
    for base, q, s in chosen:
        for rec in (q, s):
            name = rec["name"] + base + ".bin"
            shutil.copyfile(rec["raw"], os.path.join(OUT, name))
            rows.append((name, rec))

    with open(os.path.join(OUT, "MANIFEST.md"), "w") as m:
        m.write("# Golden frames from a real Apache Kafka 4.1.0 cluster\n\n")
        m.write(
            "Captured on the loopback harness (`shared/tools/realkafka/cluster.sh`, RK_BROKERS=3: nodes 1-3\n"
            "broker+controller, 4-6 broker-only, KRaft, metadata.version 4.1-IV1) with\n"
            "`Scripts/capture-proxy.py` in network-namespace mode, driven by `Scripts/realkafka-capture.sh`\n"
            "and selected by `Scripts/realkafka-fixtures.py`. Each file is one frame body WITHOUT the 4-byte\n"
            "size prefix: `*Request-*` starts with the request header (api_key, api_version,\n"
            "correlation_id, client_id, tagged fields when flexible), `*Response-*` with the response header\n"
            "(correlation_id, plus a tagged-field byte for flexible versions except ApiVersions). Request and\n"
            "response of one row belong together (same connection and correlation id). The topic\n"
            "`fixture-topic` has 12 partitions, RF 3, min.insync.replicas=2. Client ids: kcat sends\n"
            "`rdkafka`; Java tools send e.g. `adminclient-1`, `console-producer`.\n\n"
            "Versions newer than /work/shared/kafka-protocol (which is older than 4.1) are marked; see\n"
            "`Tests/Fixtures/real-kafka-4.1/api-versions.json` for all ranges.\n\n"
        )
        m.write("| file | bytes | client | command | port | note |\n|---|---|---|---|---|---|\n")
        specs = protocol_specs()
        for name, rec in rows:
            note = ""
            vv = specs.get(rec["api_key"], (None, None))[1]
            if vv:
                hi = int(vv.split("-")[-1])
                if rec["version"] > hi:
                    note = "version above shared JSON validVersions %s" % vv
            m.write(
                "| %s | %d | %s | `%s` | %d | %s |\n"
                % (name, rec["size"], client_of(rec["label"]), rec["label"].replace("|", "\\|"), rec["port"], note)
            )

    # ApiVersions table
    av = [s for q, s in pairs if s["name"] == "ApiVersionsResponse" and s["version"] >= 3]
    if av:
        err, ranges = api_ranges(open(av[-1]["raw"], "rb").read())
        specs = protocol_specs()
        table = []
        for k in sorted(set(ranges) | set(specs)):
            name, vv = specs.get(k, ("ApiKey%d" % k, None))
            lo_hi = ranges.get(k)
            table.append(
                {
                    "apiKey": k,
                    "name": name,
                    "broker41": None if lo_hi is None else {"min": lo_hi[0], "max": lo_hi[1]},
                    "sharedJsonValidVersions": vv,
                }
            )
        os.makedirs(TABLES, exist_ok=True)
        with open(os.path.join(TABLES, "api-versions.json"), "w") as f:
            json.dump(
                {
                    "source": "ApiVersionsResponse v%d from broker 127.0.0.1:%d (Kafka 4.1.0), command: %s"
                    % (av[-1]["version"], av[-1]["port"], av[-1]["label"]),
                    "errorCode": err,
                    "apis": table,
                },
                f,
                indent=1,
            )
    print("wrote %d files to %s" % (len(rows), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
