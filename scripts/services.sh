# Sourced by scripts/test.sh: installs (once, cached) and starts the servers the tests need on
# loopback, and exports where they listen. Safe to source again: running servers are reused.
. scripts/services/vault.sh
