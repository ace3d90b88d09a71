# Sourced by scripts/test.sh: installs (once, cached) and starts the servers the tests need on
# loopback, and exports where they listen. Safe to source again: running servers are reused.
. "$(dirname "${BASH_SOURCE[0]}")/services/redis.sh" || return 1    # AIPROXY_REDIS7_ADDR, AIPROXY_REDIS8_ADDR
. "$(dirname "${BASH_SOURCE[0]}")/services/pgvector.sh" || return 1 # AIPROXY_PGVECTOR_URL
