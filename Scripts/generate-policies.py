#!/usr/bin/env python3
"""Generate Kafka config policies from the shared config facts.

Reads ../shared/kafka-config-facts/ (broker-configs-<v>.csv, topic-configs-<v>.csv, broker-modes-matrix.csv,
SOURCES.md) and writes, deterministically:

  policies/kafka-config-modes/<v>.json            human-readable, versioned data
  Sources/KafkaPolicies/Generated/*.swift          the same data compiled into the binary

Cross-checks before writing anything: the per-version CSVs agree with broker-modes-matrix.csv, and the counts
per update mode agree with the table in SOURCES.md. Exits 1 with a message naming the file at fault otherwise.

Usage: Scripts/generate-policies.py [--facts-dir DIR] [--out-dir REPO_ROOT] [--check]
  --check  regenerate in memory and exit 1 if any output file differs from what is on disk.
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys

VERSIONS = ["3.6", "3.7", "3.8", "3.9", "4.0", "4.1"]
MODES = ["read-only", "per-broker", "cluster-wide"]
TYPES = {"boolean", "string", "int", "long", "short", "double", "list", "class", "password"}
IMPORTANCES = {"high", "medium", "low"}
BROKER_COLUMNS = ["name", "type", "default", "valid_values", "importance", "dynamic_update_mode"]
TOPIC_COLUMNS = ["name", "type", "default", "valid_values", "server_default_property", "importance"]
SEPARATOR = "|"


class FactsError(Exception):
    pass


def read_csv(path, columns):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != columns:
            raise FactsError(f"{path}: expected columns {columns}, found {reader.fieldnames}")
        rows = list(reader)
    seen = set()
    for i, row in enumerate(rows, start=2):
        name = row["name"]
        if not name:
            raise FactsError(f"{path}:{i}: empty config name")
        if name in seen:
            raise FactsError(f"{path}:{i}: duplicate config {name}")
        seen.add(name)
        if row["type"] not in TYPES:
            raise FactsError(f"{path}:{i}: {name} has unknown type {row['type']!r}")
        if row["importance"] not in IMPORTANCES:
            raise FactsError(f"{path}:{i}: {name} has unknown importance {row['importance']!r}")
        if "dynamic_update_mode" in row and row["dynamic_update_mode"] not in MODES:
            raise FactsError(f"{path}:{i}: {name} has unknown update mode {row['dynamic_update_mode']!r}")
        for key, value in row.items():
            if SEPARATOR in value or "\n" in value or "\r" in value or "\\" in value:
                raise FactsError(f"{path}:{i}: {name}.{key} contains a character the embedded table cannot hold")
    return rows


def parse_sources_counts(path):
    """The 'Counts per mode' table and the 'Topic configs:' line of SOURCES.md."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    counts = {}
    for m in re.finditer(r"^\| (\d\.\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M):
        v, total, ro, pb, cw = m.groups()
        counts[v] = {"total": int(total), "read-only": int(ro), "per-broker": int(pb), "cluster-wide": int(cw)}
    m = re.search(r"^Topic configs: ([\d / ]+)\.$", text, re.M)
    if not m:
        raise FactsError(f"{path}: no 'Topic configs:' count line")
    topic_counts = [int(x) for x in m.group(1).split("/")]
    if len(topic_counts) != len(VERSIONS):
        raise FactsError(f"{path}: expected {len(VERSIONS)} topic counts, found {len(topic_counts)}")
    for v, n in zip(VERSIONS, topic_counts):
        counts.setdefault(v, {})["topic"] = n
    return counts


def load(facts_dir):
    broker = {v: read_csv(os.path.join(facts_dir, f"broker-configs-{v}.csv"), BROKER_COLUMNS) for v in VERSIONS}
    topic = {v: read_csv(os.path.join(facts_dir, f"topic-configs-{v}.csv"), TOPIC_COLUMNS) for v in VERSIONS}

    matrix_path = os.path.join(facts_dir, "broker-modes-matrix.csv")
    matrix = read_matrix(matrix_path)
    for v in VERSIONS:
        from_csv = {r["name"]: r["dynamic_update_mode"] for r in broker[v]}
        from_matrix = {name: modes[v] for name, modes in matrix.items() if modes[v]}
        if from_csv != from_matrix:
            diff = sorted(set(from_csv.items()) ^ set(from_matrix.items()))[:5]
            raise FactsError(f"{matrix_path}: disagrees with broker-configs-{v}.csv, e.g. {diff}")

    sources_path = os.path.join(facts_dir, "SOURCES.md")
    expected = parse_sources_counts(sources_path)
    for v in VERSIONS:
        got = count_modes(broker[v])
        got["topic"] = len(topic[v])
        if expected.get(v) != got:
            raise FactsError(f"{sources_path}: counts for {v} are {expected.get(v)}, the CSVs give {got}")
    return broker, topic


def read_matrix(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["name"] + VERSIONS:
            raise FactsError(f"{path}: expected columns name,{','.join(VERSIONS)}")
        return {row["name"]: row for row in reader}


def count_modes(rows):
    counts = {"total": len(rows)}
    for mode in MODES:
        counts[mode] = sum(1 for r in rows if r["dynamic_update_mode"] == mode)
    return counts


def default_json(value):
    """CSV default encoding: empty = no default (required), `""` = the empty string, `null` = null."""
    if value == "":
        return {"required": True, "default": None}
    if value == '""':
        return {"default": ""}
    if value == "null":
        return {"default": None}
    return {"default": value}


def entry_json(row, kind):
    entry = {"name": row["name"], "type": row["type"]}
    entry.update(default_json(row["default"]))
    entry["validValues"] = row["valid_values"] or None
    entry["importance"] = row["importance"]
    if kind == "broker":
        entry["updateMode"] = row["dynamic_update_mode"]
    else:
        entry["serverDefaultProperty"] = row["server_default_property"] or None
    return entry


def policy_json(v, broker_rows, topic_rows):
    doc = {
        "kafkaVersion": v,
        "generatedBy": "Scripts/generate-policies.py",
        "source": f"kafka-config-facts/broker-configs-{v}.csv, topic-configs-{v}.csv (see its SOURCES.md)",
        "counts": {**count_modes(broker_rows), "topic": len(topic_rows)},
        "broker": [entry_json(r, "broker") for r in broker_rows],
        "topic": [entry_json(r, "topic") for r in topic_rows],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def ident(v):
    return "v" + v.replace(".", "_")


SWIFT_HEADER = "// Generated by Scripts/generate-policies.py from kafka-config-facts. Do not edit.\n"


def swift_table(v, broker_rows, topic_rows):
    def lines(rows, columns):
        return "\n".join("        " + SEPARATOR.join(r[c] for c in columns) for r in rows)

    return (
        SWIFT_HEADER
        + "\n"
        + "extension GeneratedConfigTables {\n"
        + f"    /// Kafka {v} broker configs, one per line: {SEPARATOR.join(BROKER_COLUMNS)}.\n"
        + f'    static let broker_{ident(v)} = #"""\n'
        + lines(broker_rows, BROKER_COLUMNS)
        + '\n        """#\n\n'
        + f"    /// Kafka {v} topic configs, one per line: {SEPARATOR.join(TOPIC_COLUMNS)}.\n"
        + f'    static let topic_{ident(v)} = #"""\n'
        + lines(topic_rows, TOPIC_COLUMNS)
        + '\n        """#\n'
        + "}\n"
    )


def swift_index():
    cases = "\n".join(
        f"        case ({v.split('.')[0]}, {v.split('.')[1]}): (broker_{ident(v)}, topic_{ident(v)})" for v in VERSIONS
    )
    known = "".join(f"        KafkaVersion(major: {v.split('.')[0]}, minor: {v.split('.')[1]}),\n" for v in VERSIONS)
    return (
        SWIFT_HEADER
        + "\n"
        + "/// The config tables of every known Kafka version, one `|`-separated line per config.\n"
        + "enum GeneratedConfigTables {\n"
        + "    /// The Kafka versions with a config table, oldest first.\n"
        + "    static let knownVersions: [KafkaVersion] = [\n"
        + known
        + "    ]\n\n"
        + "    /// The broker and topic tables of a known version (major.minor), nil otherwise.\n"
        + "    static func tables(major: Int, minor: Int) -> (broker: String, topic: String)? {\n"
        + "        switch (major, minor) {\n"
        + cases
        + "\n        default: nil\n"
        + "        }\n"
        + "    }\n"
        + "}\n"
    )


def outputs(broker, topic):
    files = {}
    for v in VERSIONS:
        files[f"policies/kafka-config-modes/{v}.json"] = policy_json(v, broker[v], topic[v])
        files[f"Sources/KafkaPolicies/Generated/ConfigTables+{v}.swift"] = swift_table(v, broker[v], topic[v])
    files["Sources/KafkaPolicies/Generated/ConfigTables.swift"] = swift_index()
    return files


def main_worktree(repo_root):
    try:
        common = subprocess.run(
            ["git", "-C", repo_root, "rev-parse", "--path-format=absolute", "--git-common-dir"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return os.path.dirname(common) if common else None


def main():
    repo_root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--facts-dir",
        default=os.path.join(repo_root, "..", "shared", "kafka-config-facts"),
        help="folder of the config facts (default: ../shared/kafka-config-facts relative to the repo root)",
    )
    parser.add_argument("--out-dir", default=repo_root, help="root to write outputs under (default: the repo root)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the outputs on disk are not up to date")
    args = parser.parse_args()

    facts_dir = args.facts_dir
    if not os.path.isdir(facts_dir):
        # A linked git worktree is not next to ../shared; the main checkout (beside .git) is.
        main_checkout = main_worktree(repo_root)
        if main_checkout:
            candidate = os.path.join(main_checkout, "..", "shared", "kafka-config-facts")
            if os.path.isdir(candidate):
                facts_dir = os.path.normpath(candidate)
    try:
        broker, topic = load(facts_dir)
    except (FactsError, OSError) as e:
        print(f"generate-policies: {e}", file=sys.stderr)
        return 1

    files = outputs(broker, topic)
    stale = []
    for rel, content in sorted(files.items()):
        path = os.path.join(args.out_dir, rel)
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == content:
            continue
        if args.check:
            stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
    if stale:
        print("generate-policies: out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(f"generate-policies: {len(files)} files for Kafka {', '.join(VERSIONS)} from {facts_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
