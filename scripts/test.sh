#!/usr/bin/env bash
# The project's test command: starts the servers the tests need (see scripts/services.sh),
# then runs every test with the race detector. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
go test -race -count=1 "$@" ./...
