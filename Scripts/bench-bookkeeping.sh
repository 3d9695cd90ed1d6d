#!/bin/bash
# The executor's bookkeeping benchmark (`ballast bench executor`'s `bookkeeping()`: 100,000 moves over 300 brokers
# through the state machine, only its own calls timed) without a release build of the whole product: the
# `KafkaModel` and `Rebalancer` sources are compiled alone, module by module, with the flags a SwiftPM release build
# gives them (`-O -wmo`, Swift 6, the package's upcoming features, warnings as errors), and linked with a driver
# whose body is `bookkeeping()`, `threadCPUSeconds()` and `BenchCluster` taken verbatim from
# Sources/ballast/Bench+Executor.swift.
# A few minutes of CPU per revision instead of a 35-minute release build.
#
# Each REV (a git revision, or `.` for the working tree) is built once, then the binaries are run interleaved
# (rev 1, rev 2, …, rev 1, …) ROUNDS times; the script prints every run, each revision's median of the decisions'
# CPU time and its ratio to the first revision's. On a shared machine only CPU time means anything; the load
# average is printed with each run.
#
# With -g N, each revision's decisions over an N-move run are first hashed (every step's action, events, journal
# entries and priors): equal digests, same decisions.
#
# Usage: Scripts/bench-bookkeeping.sh [-r ROUNDS=3] [-m MOVES=100000] [-b BROKERS=300] [-g N] [-o DIR] REV [REV …]
#   e.g. Scripts/bench-bookkeeping.sh main .     (before / after)
#        Scripts/bench-bookkeeping.sh -r 1 .     (one run of the working tree)
# DIR (default: a fresh temporary directory) keeps the sources, binaries (`DIR/N/bookkeeping`) and output.
set -euo pipefail
rounds=3 moves=100000 brokers=300 digest= dir=
while getopts "r:m:b:g:o:" opt; do
  case $opt in
    r) rounds=$OPTARG ;;
    m) moves=$OPTARG ;;
    b) brokers=$OPTARG ;;
    g) digest=$OPTARG ;;
    o) dir=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-m MOVES] [-b BROKERS] [-g N] [-o DIR] REV [REV …]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r ROUNDS] [-m MOVES] [-b BROKERS] [-g N] [-o DIR] REV [REV …]" >&2; exit 2; }
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
dir=${dir:-$(mktemp -d /tmp/bench-bookkeeping.XXXXXX)}
mkdir -p "$dir"
swift_flags=(-O -g -whole-module-optimization -parse-as-library -swift-version 6
  -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault -warnings-as-errors
  -package-name Ballast)

# Sources of REV (`.`: the working tree) into $1/src.
checkout() {
  local rev=$1 out=$2
  rm -rf "$out/src" && mkdir -p "$out/src"
  if [ "$rev" = . ]; then
    (cd "$repo" && tar -cf - Sources/KafkaModel Sources/Rebalancer Sources/ballast/Bench+Executor.swift \
      Sources/ballast/Bench+Planner.swift) |
      tar -xf - -C "$out/src"
  else
    git -C "$repo" archive "$rev" Sources/KafkaModel Sources/Rebalancer Sources/ballast/Bench+Executor.swift \
      Sources/ballast/Bench+Planner.swift |
      tar -xf - -C "$out/src"
  fi
}

# The driver: the benchmark's code, verbatim, in a struct with the same names.
driver() {
  python3 - "$1/src/Sources/ballast" > "$1/driver.swift" <<'PY'
import sys
def block(start, file='Bench+Executor.swift'):
    """The lines of `file` from the one starting with `start` to its closing brace at the same indentation."""
    lines = open(f'{sys.argv[1]}/{file}').read().split('\n')
    for i, line in enumerate(lines):
        if line.startswith(start):
            indent = line[:len(line) - len(line.lstrip())]
            for j in range(i + 1, len(lines)):
                if lines[j] == indent + '}':
                    return '\n'.join(lines[i:j + 1])
    sys.exit(f'bench-bookkeeping: `{start.strip()}` not found in {file}')
print('''import Foundation
import KafkaModel
import Rebalancer

enum PlannerBench {''')
print(block('    static func cpuSeconds() -> Double {', 'Bench+Planner.swift'))
print('''}

struct ExecutorBench {
    var moves = 100_000
    var brokers = 300
''')
print(block('    func bookkeeping() throws {'))
print()
print(block('    static func threadCPUSeconds() -> Double {'))
print('}\n')
print(block('struct BenchCluster {'))
print('''
/// The same run, every step (action, events, journal, priors) hashed: equal digests, same decisions.
func digest(moves: Int, brokers: Int) -> String {
    let newBrokers = max(1, brokers / 3)
    var cluster = BenchCluster(
        moves: moves, oldBrokers: Int32(brokers - newBrokers), newBrokers: Int32(newBrokers))
    var options = RebalanceOptions()
    options.throttleBytesPerSecond = 10_000_000
    var machine = RebalanceStateMachine(moves: cluster.planned, options: options)
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ step: RebalanceStateMachine.Step) {
        for byte in "\\(step.action)|\\(step.events)|\\(step.journal)|\\(step.priors)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }
    var step = machine.start(now: 0)
    var now = 0.0
    var steps = 0
    while true {
        mix(step)
        steps += 1
        switch step.action {
        case .finished: return String(hash, radix: 16) + " (\\(steps) steps)"
        case .read(let request): step = machine.observed(cluster.observation(request), now: now)
        case .alterThrottles(let changes):
            cluster.alter(changes)
            step = machine.throttlesAltered(failures: [:], now: now)
        case .startMoves(let list):
            cluster.start(list, machine.moves)
            step = machine.movesStarted(refused: [:], unknown: [], now: now)
        case .cancelMoves: step = machine.movesCancelled(failures: [:], now: now)
        case .electLeaders(let tps):
            cluster.elect(tps)
            step = machine.leadersElected(tps, failures: [:], now: now)
        case .wait(let seconds):
            now += seconds
            cluster.completeAll()
            step = machine.waited(now: now)
        }
    }
}

@main
enum Main {
    static func main() throws {
        var bench = ExecutorBench()
        let args = CommandLine.arguments
        if args.count > 1 { bench.moves = Int(args[1])! }
        if args.count > 2 { bench.brokers = Int(args[2])! }
        if args.count > 3 && args[3] == "digest" {
            print("digest of \\(bench.moves) moves over \\(bench.brokers) brokers:", digest(moves: bench.moves, brokers: bench.brokers))
        } else {
            try bench.bookkeeping()
        }
    }
}''')
PY
}

build() {
  local out=$1
  (
    cd "$out"
    mkdir -p obj
    swiftc "${swift_flags[@]}" -module-name KafkaModel -emit-module -emit-module-path obj/KafkaModel.swiftmodule \
      -c -o obj/KafkaModel.o src/Sources/KafkaModel/*.swift
    swiftc "${swift_flags[@]}" -I obj -module-name Rebalancer -emit-module -emit-module-path obj/Rebalancer.swiftmodule \
      -c -o obj/Rebalancer.o src/Sources/Rebalancer/*.swift
    swiftc -O -g -whole-module-optimization -swift-version 6 -I obj -parse-as-library -module-name Bookkeeping -c -o obj/driver.o driver.swift
    swiftc obj/driver.o obj/Rebalancer.o obj/KafkaModel.o -o bookkeeping
  )
}

revs=("$@")
for i in "${!revs[@]}"; do
  out="$dir/$i"
  mkdir -p "$out"
  if [ "${revs[$i]}" = . ]; then
    label=". (working tree on $(git -C "$repo" rev-parse --short HEAD))"
  else
    label="${revs[$i]} ($(git -C "$repo" rev-parse --short "${revs[$i]}"))"
  fi
  echo "$label" > "$out/label"
  echo "building $label in $out" >&2
  checkout "${revs[$i]}" "$out"
  driver "$out"
  build "$out"
done

if [ -n "$digest" ]; then
  for i in "${!revs[@]}"; do echo "$(cat "$dir/$i/label"): $("$dir/$i/bookkeeping" "$digest" "$brokers" digest)"; done
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(swiftc --version 2>&1 | head -1)"
: > "$dir/runs"
for round in $(seq 1 "$rounds"); do
  for i in "${!revs[@]}"; do
    line=$("$dir/$i/bookkeeping" "$moves" "$brokers" | grep '^bookkeeping:')
    echo "$i $line" >> "$dir/runs"
    echo "round $round, $(cat "$dir/$i/label"), $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg): $line"
  done
done
python3 - "$dir" "${#revs[@]}" <<'PY'
import re, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
cpu = {i: [] for i in range(n)}
for line in open(f'{d}/runs'):
    i, rest = line.split(' ', 1)
    m = re.search(r'decisions took ([\d.]+) s CPU', rest)
    if m:
        cpu[int(i)].append(float(m.group(1)))
base = statistics.median(cpu[0])
for i in range(n):
    label = open(f'{d}/{i}/label').read().strip()
    med = statistics.median(cpu[i])
    runs = ' / '.join(f'{x:.3f}' for x in cpu[i])
    print(f'{label}: decisions CPU {runs} s, median {med:.3f} s, ratio to the first {med / base:.2f}')
PY
