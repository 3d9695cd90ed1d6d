#!/bin/bash
# The test command of the README: installs what the build and the tests need, checks that generated code and
# formatting are current, then builds (warnings are errors) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# postgresql: the PostgreSQL store's tests start their own server from its binaries (initdb in a temp directory).
# chromium: the dashboard's browser test (headless).
for pkg in pkg-config librdkafka-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev kcat python3-confluent-kafka prometheus \
    prometheus-alertmanager postgresql chromium; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# kubectl for the tests against the simulated Kubernetes API: Debian's kubernetes-client (kubectl 1.20), only when no
# kubectl is installed (another kubectl, e.g. Google Cloud SDK's, conflicts with the Debian package).
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
if ((${#need[@]})); then
    echo "installing: ${need[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Generated code must match its generator (only where the shared inputs are present beside the repo).
if [ -d ../shared/kafka-protocol ] && [ -f Scripts/generate-kafkawire.py ]; then
    python3 Scripts/generate-kafkawire.py
fi
if [ -d ../shared/kafka-config-facts ] && [ -f Scripts/generate-policies.py ]; then
    python3 Scripts/generate-policies.py
fi
generated=(Sources/KafkaWire/Generated Tests/KafkaWireTests/Generated Sources/KafkaPolicies/Generated policies/kafka-config-modes)
if [ -n "$(git status --porcelain -- "${generated[@]}")" ]; then
    echo "generated files differ from what their generators write now:" >&2
    git status --short -- "${generated[@]}" >&2
    exit 1
fi

./Scripts/check-format.sh
# The module layout of docs/architecture.md: pure targets stay free of I/O dependencies.
python3 Scripts/check-architecture.py
swift build --build-tests
# A hung test must fail the run with a message, not use up CI's 90 minutes (a full run takes about 6 minutes).
# `ballast demo`'s tests (a 9-broker simulator over 3 Kubernetes APIs, agents, the service, applications, chromium)
# and the other heavy modules run on their own: all at once they loaded a 2-core machine until its servers missed
# 10 s connect deadlines.
run_tests() {
    timeout --kill-after=30 1200 swift test --skip-build "$@" || {
        rc=$?
        [ "$rc" -ge 124 ] && echo "swift test $* did not finish within 20 minutes: a test hangs" >&2
        exit "$rc"
    }
}
# The heaviest test modules (simulated clusters, Kubernetes APIs, agents, real clients) each get the machine in turn.
heavy='OperationsTests\.|IntegrationTests\.'
run_tests --skip "$heavy"
run_tests --filter 'OperationsTests\.'
run_tests --filter 'IntegrationTests\.' --skip DemoCLITests
run_tests --filter DemoCLITests
