# Sourced by scripts/test.sh: installs (once, cached) and starts the servers the tests need on
# loopback, and exports where they listen. Safe to source again: running servers are reused.
# Vault is defined first so its (long, cold) build runs in the background while the others install;
# starting it then waits for that build.
. "$(dirname "${BASH_SOURCE[0]}")/services/vault.sh" || return 1    # VAULT_ADDR, VAULT_TOKEN
aiproxy_vault_prebuild
. "$(dirname "${BASH_SOURCE[0]}")/services/redis.sh" || return 1    # AIPROXY_REDIS7_ADDR, AIPROXY_REDIS8_ADDR
. "$(dirname "${BASH_SOURCE[0]}")/services/pgvector.sh" || return 1 # AIPROXY_PGVECTOR_URL
aiproxy_vault_start || return 1
