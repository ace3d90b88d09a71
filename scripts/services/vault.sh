# shellcheck shell=bash
# Sourced by scripts/services.sh, which then calls aiproxy_vault_prebuild (the build, in the background)
# and aiproxy_vault_start. Builds (once, cached by release, edits and Go) and starts a real HashiCorp Vault server in
# dev mode on loopback, configures it for the tests and exports VAULT_ADDR and VAULT_TOKEN.
#
#   KV v2 at secret/ (dev default), KV v1 at kv1/, AppRole auth at approle/, root token "root".
#
# Environment (all optional):
#   AIPROXY_VAULT_PORT   listen port on 127.0.0.1 (default 18200)
#   AIPROXY_VAULT_BIN    use this vault binary instead of building one
#   XDG_CACHE_HOME       the binary is cached in ${XDG_CACHE_HOME:-$HOME/.cache}/aiproxy/vault/<key>/vault,
#                        <key> = <version>-<hash of the compatibility edits and `go version`> (_aiproxy_vault_cache)
#
# Why a build: Debian ships no Vault package and the network reaches only the Go module proxy, so the
# `vault` binary is built from github.com/hashicorp/vault/command in a throwaway module outside the repo.
# Vault v1.21.4 was built against its in-repo ./sdk, which differs from the published
# github.com/hashicorp/vault/sdk v0.21.0 in three call sites; the build copies Vault's module and applies
# three one-line compatibility edits to the copy (see _aiproxy_vault_patch). Nothing of Vault's is committed.
# A cold build downloads ~650 MB of modules and takes ~15 min on 2 cores; later runs reuse the binary.
#
# Why v1.21.4 with edits: no release tried builds unmodified against a published sdk.
#   v1.20.4  fails against sdk v0.18.0 and against sdk v0.19.0 (not pursued further);
#   v1.21.4  fails unmodified against sdk v0.20.0 and v0.21.0; against v0.21.0 the failures are three
#            call sites whose signatures changed, each fixed by a one-line edit, and the result serves
#            KV v1/v2 and AppRole as the tests need.
#   OpenBao's server module is refused by the Go module proxy, and an in-process vault.NewTestCluster in a
#   separate test module hits the same sdk mismatch. A newer release may build unmodified; trying one costs
#   a cold build, so the pin moves only deliberately (change AIPROXY_VAULT_VERSION and the edits together).

AIPROXY_VAULT_VERSION=v1.21.4 # pinned; the edits below are for exactly this release
AIPROXY_VAULT_PORT=${AIPROXY_VAULT_PORT:-18200}
AIPROXY_VAULT_ROOT_TOKEN=root

# _aiproxy_vault_cache: the cache folder of the binary. Its key is the release and a short hash of the
# compatibility edits (the text of the two functions below) and `go version`, so that a changed edit or
# another Go toolchain builds a new binary instead of reusing one built otherwise.
_aiproxy_vault_cache() {
	local key
	command -v go >/dev/null || { echo "vault.sh: building Vault needs go on PATH" >&2; return 1; }
	key=$({ declare -f _aiproxy_vault_patch _aiproxy_vault_edit; go version; } | sha256sum | cut -c1-12) || return 1
	echo "${XDG_CACHE_HOME:-$HOME/.cache}/aiproxy/vault/$AIPROXY_VAULT_VERSION-$key"
}

# _aiproxy_vault_patch DIR: the three compatibility edits, each checked so a changed source fails loudly.
_aiproxy_vault_patch() {
	local v=$1
	_aiproxy_vault_edit "$v/vault/identity_store.go" \
		'ActivationFunc: iStore.activateDeduplication,' \
		'ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },' &&
	_aiproxy_vault_edit "$v/vault/logical_system_activation_flags.go" \
		'b.idStoreBackend.ActivationFunc(ctx, nil)' \
		'b.idStoreBackend.ActivationFunc(ctx, nil, "")' &&
	_aiproxy_vault_edit "$v/builtin/logical/transit/path_restore.go" \
		'restoredKeyName, err := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)' \
		'restoredKeyName, err := keyName, b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)'
}

# _aiproxy_vault_edit FILE OLD NEW: replace the single line containing OLD (literal) by the same line with NEW.
_aiproxy_vault_edit() {
	local f=$1 old=$2 new=$3
	if ! grep -qF -- "$old" "$f"; then
		echo "vault.sh: compatibility edit no longer applies to $f (looked for: $old)" >&2
		return 1
	fi
	OLD=$old NEW=$new perl -0pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$f"
}

_aiproxy_vault_build() {
	local cache bin work log dir
	cache=$(_aiproxy_vault_cache) || return 1
	bin=$cache/vault
	[ -x "$bin" ] && return 0
	# build in a temporary folder, not in the cache: the cache may be cleared while a build runs
	work=$(mktemp -d "${TMPDIR:-/tmp}/aiproxy-vault-build.XXXXXX")
	log=$work.log
	echo "vault.sh: building vault $AIPROXY_VAULT_VERSION (cold build ~15 min; log: $log)" >&2
	# one && chain: `set -e` does not apply inside a function called from a `||` list
	(
		cd "$work" &&
		export GOWORK=off &&
		printf '%s\n' 'package main' '' 'import (' '"os"' '' '"github.com/hashicorp/vault/command"' ')' '' \
			'func main() { os.Exit(command.Run(os.Args[1:])) }' >main.go &&
		printf '%s\n' 'module aiproxy.local/vaultsrv' '' 'go 1.25.3' '' \
			"require github.com/hashicorp/vault $AIPROXY_VAULT_VERSION" '' \
			"// non-local replaces, copied from Vault $AIPROXY_VAULT_VERSION's own go.mod" \
			'replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3' \
			'replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1' '' \
			'// patched copy (see _aiproxy_vault_patch in scripts/services/vault.sh)' \
			'replace github.com/hashicorp/vault => ./third_party/vault' >go.mod &&
		dir=$(go mod download -json "github.com/hashicorp/vault@$AIPROXY_VAULT_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') &&
		[ -n "$dir" ] &&
		mkdir -p third_party &&
		cp -r "$dir" third_party/vault &&
		chmod -R u+w third_party/vault &&
		_aiproxy_vault_patch third_party/vault &&
		go mod tidy &&
		nice go build -trimpath -ldflags='-s -w' -o vault . &&
		mkdir -p "$cache" &&
		mv vault "$bin.new" && mv "$bin.new" "$bin"
	) >"$log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ] || [ ! -x "$bin" ]; then
		echo "vault.sh: building vault $AIPROXY_VAULT_VERSION FAILED (exit $rc); last lines of $log:" >&2
		tail -n 40 "$log" >&2
		chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"
		return 1
	fi
	chmod -R u+w "$work" 2>/dev/null; rm -rf "$work" "$log"
	echo "vault.sh: built $bin" >&2
}

# _aiproxy_vault_api METHOD PATH [JSON]: one authenticated call; prints the body; fails on HTTP >= 400.
_aiproxy_vault_api() {
	curl -sS --fail-with-body -X "$1" -H "X-Vault-Token: $VAULT_TOKEN" \
		${3:+-H 'Content-Type: application/json' --data "$3"} "$VAULT_ADDR/v1/$2"
}

_aiproxy_vault_healthy() {
	curl -sf -o /dev/null "http://127.0.0.1:$AIPROXY_VAULT_PORT/v1/sys/health"
}

_aiproxy_vault_configure() {
	local mounts auths
	mounts=$(_aiproxy_vault_api GET sys/mounts) || return 1
	case $mounts in *'"kv1/"'*) ;; *)
		_aiproxy_vault_api POST sys/mounts/kv1 '{"type":"kv","options":{"version":"1"}}' >/dev/null || return 1 ;;
	esac
	auths=$(_aiproxy_vault_api GET sys/auth) || return 1
	case $auths in *'"approle/"'*) ;; *)
		_aiproxy_vault_api POST sys/auth/approle '{"type":"approle"}' >/dev/null || return 1 ;;
	esac
}

# aiproxy_vault_prebuild: starts the build in the background when the binary is not cached yet;
# aiproxy_vault_start waits for it (both hold the build lock).
aiproxy_vault_prebuild() {
	local cache
	[ -n "${AIPROXY_VAULT_BIN:-}" ] && return 0
	_aiproxy_vault_healthy && return 0
	cache=$(_aiproxy_vault_cache) || return 1
	[ -x "$cache/vault" ] && return 0
	mkdir -p "$cache"
	(flock 9 && _aiproxy_vault_build) 9>"$cache/build.lock" &
}

aiproxy_vault_start() {
	local bin cache run i
	export VAULT_ADDR="http://127.0.0.1:$AIPROXY_VAULT_PORT"
	export VAULT_TOKEN=$AIPROXY_VAULT_ROOT_TOKEN
	run=${TMPDIR:-/tmp}/aiproxy-vault-$AIPROXY_VAULT_PORT
	mkdir -p "$run"
	if ! _aiproxy_vault_healthy; then
		if [ -n "${AIPROXY_VAULT_BIN:-}" ]; then
			bin=$AIPROXY_VAULT_BIN
		else
			cache=$(_aiproxy_vault_cache) || return 1
			mkdir -p "$cache"
			# one build at a time, even when several test runs start together
			(flock 9 && _aiproxy_vault_build) 9>"$cache/build.lock" || return 1
			bin=$cache/vault
		fi
		(flock 9
			_aiproxy_vault_healthy && exit 0
			# dev mode: in-memory storage, unsealed, KV v2 at secret/
			nohup "$bin" server -dev \
				-dev-root-token-id="$AIPROXY_VAULT_ROOT_TOKEN" \
				-dev-listen-address="127.0.0.1:$AIPROXY_VAULT_PORT" \
				-dev-no-store-token >"$run/vault.log" 2>&1 </dev/null 9>&- &
			echo $! >"$run/vault.pid"
		) 9>"$run/start.lock"
		for i in $(seq 1 300); do
			_aiproxy_vault_healthy && break
			sleep 0.1
		done
		if ! _aiproxy_vault_healthy; then
			echo "vault.sh: vault did not become healthy on $VAULT_ADDR; last lines of $run/vault.log:" >&2
			tail -n 40 "$run/vault.log" >&2
			return 1
		fi
	fi
	_aiproxy_vault_configure || { echo "vault.sh: configuring vault at $VAULT_ADDR failed" >&2; return 1; }
}

# aiproxy_vault_stop: stops the dev server this script started (by its recorded pid).
aiproxy_vault_stop() {
	local pidf=${TMPDIR:-/tmp}/aiproxy-vault-$AIPROXY_VAULT_PORT/vault.pid
	[ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
	rm -f "$pidf"
}
