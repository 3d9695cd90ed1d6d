#!/bin/bash
# The webhook load test of docs/service.md: starts `ballast serve` (SQLite store, the default kind) on a loopback
# port it picks, posts Alertmanager webhooks to it at a fixed rate with `ballast bench serve-alerts`, checks that
# every alert is stored, and stops the server. Build first: swift build -c release (or set BALLAST=path).
#   Scripts/bench-serve-alerts.sh [RATE] [SECONDS]     (default 1000 30)
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}
seconds=${2:-30}
ballast=${BALLAST:-.build/release/ballast}
[ -x "$ballast" ] || { echo "no $ballast: build it (swift build -c release) or set BALLAST" >&2; exit 2; }

dir=$(mktemp -d)
serve_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
head -c 24 /dev/urandom | base64 > "$dir/admin.token"
cat > "$dir/ballast.yaml" <<EOF
listen: 127.0.0.1:0
store: sqlite://$dir/serve.sqlite
tokens: {admin: $dir/admin.token}
clusters:
  - name: prod
    bootstrap: 127.0.0.1:1
EOF
"$ballast" serve --config "$dir/ballast.yaml" > "$dir/serve.out" 2> "$dir/serve.err" &
serve_pid=$!
for _ in $(seq 600); do
    grep -q '^listening=' "$dir/serve.out" 2>/dev/null && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$dir/serve.err" >&2; exit 1; }
    sleep 0.1
done
url=$(sed -n 's/^listening=//p' "$dir/serve.out")
[ -n "$url" ] || { echo "ballast serve did not listen within 60 s" >&2; exit 1; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$ballast" bench serve-alerts --server "$url" --token-file "$dir/admin.token" --cluster prod \
    --rate "$rate" --seconds "$seconds" --store "sqlite://$dir/serve.sqlite"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); ballast serve's CPU time: $(ps -o times= -p "$serve_pid" | tr -d ' ') s"
