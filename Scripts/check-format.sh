#!/bin/bash
# Fails when any Swift file differs from what `swift format` would write (config: .swift-format).
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive --parallel Package.swift Sources Tests
