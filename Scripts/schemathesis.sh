#!/bin/bash
# schemathesis (PyPI) against openapi.yaml and a live `ballast serve` on the simulator, with the admin token:
# every operation of the document is called with generated valid and invalid input; the run fails on any finding of
# the checks (default: all of schemathesis's checks — a 5xx, a status or content type the document does not declare,
# a response that breaks its schema, an undeclared method not answered 405, a schema-valid request refused, an
# invalid one accepted, ...). The cluster has a sim agent, so reconcile's rolls and scales really run
# (docs/service.md, "Shown with real processes").
#   Scripts/schemathesis.sh [MAX_EXAMPLES] [CHECKS]     (default 50 per operation, all)
# CHECKS is schemathesis's --checks value (e.g. not_a_server_error,response_schema_conformance). schemathesis is
# installed into a venv under $SCHEMATHESIS_VENV (default ~/.cache/ballast/schemathesis-venv) on first use;
# BALLAST=path picks the binary (default .build/debug/ballast).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-50}
checks=${2:-all}
ballast=${BALLAST:-.build/debug/ballast}
venv=${SCHEMATHESIS_VENV:-$HOME/.cache/ballast/schemathesis-venv}
[ -x "$ballast" ] || { echo "no $ballast: build it (swift build) or set BALLAST" >&2; exit 2; }
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi

dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT

# Waits until FILE has a line starting with PREFIX (the program announces its address), or the program ends.
await_line() {
    local file=$1 prefix=$2 pid=$3
    for _ in $(seq 1200); do
        grep -q "^$prefix" "$file" 2>/dev/null && { sed -n "s/^$prefix//p" "$file" | head -1; return 0; }
        kill -0 "$pid" 2>/dev/null || { echo "it ended: $(cat "$file" "$file.err" 2>/dev/null)" >&2; return 1; }
        sleep 0.1
    done
    echo "no $prefix line within 120 s" >&2
    return 1
}

"$ballast" sim --brokers 6 --topics 3 --partitions 4 --port 0 --control-port 0 --time-scale 10 \
    > "$dir/sim.out" 2> "$dir/sim.out.err" &
pids+=($!)
bootstrap=$(await_line "$dir/sim.out" bootstrap= "${pids[-1]}")
control=$(await_line "$dir/sim.out" control= "${pids[-1]}")

head -c 24 /dev/urandom | base64 > "$dir/admin.token"
head -c 24 /dev/urandom | base64 > "$dir/read.token"
head -c 24 /dev/urandom | base64 > "$dir/agent.token"
"$ballast" agent --driver sim --sim-control "$control" --listen 127.0.0.1:0 --token-file "$dir/agent.token" \
    --state-dir "$dir/agent" > "$dir/agent.out" 2> "$dir/agent.out.err" &
pids+=($!)
agent=$(await_line "$dir/agent.out" listening= "${pids[-1]}")
cat > "$dir/ballast.yaml" <<EOF
listen: 127.0.0.1:0
store: sqlite://$dir/serve.sqlite
tokens: {admin: $dir/admin.token, read: $dir/read.token}
clusters:
  - name: sim
    bootstrap: $bootstrap
    pools: {brokers: {min: 3, max: 9}}
    agents: [{name: sim, url: "$agent", tokenFile: $dir/agent.token}]
EOF
"$ballast" serve --config "$dir/ballast.yaml" > "$dir/serve.out" 2> "$dir/serve.out.err" &
pids+=($!)
url=$(await_line "$dir/serve.out" listening= "${pids[-1]}")

# An operation that exists (a dry run creates none): a rebalance of the simulator, which the run may pause or cancel.
token=$(cat "$dir/admin.token")
op=$(curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"dryRun": false}' "$url/v1/clusters/sim/rebalance" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("operationId") or "none")')
echo "ballast serve at $url on the simulator at $bootstrap, agent $agent (operation $op), checks $checks; schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}')"

# Path parameters: the generated calls name the real cluster and operation, so they reach past the 404s.
# A schema-valid request may still be refused with 422: well-formed but not acceptable for the live state (an
# unknown pool, broker or alert cluster), which no schema can say.
cat > "$dir/schemathesis.toml" <<EOF
[parameters]
"path.cluster" = "sim"
"path.id" = "$op"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
EOF
"$venv/bin/schemathesis" --config-file "$dir/schemathesis.toml" run openapi.yaml --url "$url" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing --max-examples "$examples" --workers 1 --request-timeout 120 \
    --suppress-health-check too_slow \
    --no-color
