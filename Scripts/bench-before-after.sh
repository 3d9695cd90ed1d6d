#!/bin/bash
# Runs `ballast bench wire|sim|roller|planner` alternately with two release binaries (before, after, before, after …)
# and prints each figure's CPU-time median per binary and the ratio after ÷ before. Alternating spreads the machine's
# load over both; on a busy machine only CPU time means anything.
# Usage: Scripts/bench-before-after.sh BEFORE_BINARY AFTER_BINARY [ROUNDS=6] [OUTPUT=bench-before-after.out]
set -euo pipefail
before=${1:?before binary}; after=${2:?after binary}; rounds=${3:-6}; out=${4:-bench-before-after.out}
: > "$out"
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    bin=$before; [ "$side" = after ] && bin=$after
    echo "=== round $round $side $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out"
    for b in wire sim roller planner; do
      echo "--- bench $b" >> "$out"
      /usr/bin/time -f "wall=%e user=%U sys=%S maxrss_kb=%M" "$bin" bench "$b" >> "$out" 2>&1
    done
  done
done
python3 - "$out" <<'PY'
import re, statistics, sys
data = {}
for block in re.split(r'^=== ', open(sys.argv[1]).read(), flags=re.M):
    m = re.match(r'round \d+ (before|after)', block)
    if not m:
        continue
    d = data.setdefault(m.group(1), {})
    for part in re.split(r'^--- bench ', block, flags=re.M)[1:]:
        name = part.split('\n')[0].strip()
        t = re.search(r'user=([\d.]+) sys=([\d.]+) maxrss_kb=(\d+)', part)
        if t:
            d.setdefault(f'{name} process CPU s', []).append(float(t.group(1)) + float(t.group(2)))
            d.setdefault(f'{name} peak RSS MB', []).append(int(t.group(3)) / 1024)
        w = re.search(r'decode median CPU: ([\d.]+)', part)
        if w:
            d.setdefault('wire decode CPU ms', []).append(float(w.group(1)))
        for line in part.split('\n'):
            f = line.split()
            if name == 'planner' and len(f) > 4 and f[0] == '300':
                d.setdefault('planner 300 brokers plan CPU ms', []).append(float(f[3]))
print(f"{'figure':36} {'before':>10} {'after':>10} {'ratio':>6}")
for key in sorted(data.get('before', {})):
    if key in data.get('after', {}):
        b, a = statistics.median(data['before'][key]), statistics.median(data['after'][key])
        print(f"{key:36} {b:10.3f} {a:10.3f} {a / b:6.3f}")
PY
