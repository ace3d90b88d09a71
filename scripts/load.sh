#!/usr/bin/env bash
# The load harness (not part of the test command): RPS and p50/p99 through aiproxy, a bare
# httputil.ReverseProxy and directly, at 1, 16 and 64 connections, streaming and not; then a
# soak of 1 M requests through aiproxy with heap and RSS reported at intervals.
# Environment: DURATION (per cell, default 5s), CONNS (default 1,16,64), REQUESTS (soak,
# default 1000000). Extra arguments go to both runs of cmd/aiproxy-load.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
go build -o "${TMPDIR:-/tmp}/aiproxy-load" ./cmd/aiproxy-load
"${TMPDIR:-/tmp}/aiproxy-load" -duration "${DURATION:-5s}" -conns "${CONNS:-1,16,64}" "$@"
"${TMPDIR:-/tmp}/aiproxy-load" -soak -requests "${REQUESTS:-1000000}" "$@"
