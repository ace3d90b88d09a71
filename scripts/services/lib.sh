# Helpers for the service scripts in this folder. Sourced by them when they run as programs
# (bash scripts/services/redis.sh ...), never by the user's shell. Requires bash, set -euo pipefail.
#
# Everything is installed under $AIPROXY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/aiproxy).
# Nothing under /etc/apt changes: Debian trixie packages are reached through a private APT
# configuration in $AIPROXY_CACHE/apt-trixie. Commands log to $AIPROXY_LOG; on failure the
# tail of that log is printed to stderr.

AIPROXY_CACHE=${AIPROXY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiproxy}
mkdir -p "$AIPROXY_CACHE"
AIPROXY_ARCH=$(dpkg --print-architecture)
AIPROXY_MULTIARCH=$(uname -m)-linux-gnu

# aiproxy_begin NAME: opens $AIPROXY_CACHE/NAME.log, takes the lock NAME.lock (so two
# concurrent runs do not install into the same folder), and arranges a loud failure report.
aiproxy_begin() {
	AIPROXY_NAME=$1
	AIPROXY_LOG=$AIPROXY_CACHE/$1.log
	: >"$AIPROXY_LOG"
	exec {AIPROXY_LOCK_FD}>"$AIPROXY_CACHE/$1.lock"
	flock "$AIPROXY_LOCK_FD"
	trap 'aiproxy_on_exit $?' EXIT
}

aiproxy_on_exit() {
	if [ "$1" != 0 ]; then
		{
			echo "aiproxy services: $AIPROXY_NAME FAILED${AIPROXY_WHY:+: $AIPROXY_WHY}"
			echo "  last lines of $AIPROXY_LOG:"
			tail -n 30 "$AIPROXY_LOG" | sed 's/^/    /'
		} >&2
	fi
}

# aiproxy_die MESSAGE: fails the service with MESSAGE (printed with the log's tail on exit).
aiproxy_die() {
	AIPROXY_WHY="$*"
	exit 1
}

# aiproxy_run CMD...: runs CMD with its output in the log. CMD does not inherit the lock, so
# a server that CMD leaves running does not hold it.
aiproxy_run() {
	echo "+ $*" >>"$AIPROXY_LOG"
	"$@" >>"$AIPROXY_LOG" 2>&1 {AIPROXY_LOCK_FD}>&-
}

# aiproxy_apt ARGS...: apt-get ARGS with the system's (bookworm) configuration. Runs
# `apt-get update` first only when ARGS fail (the package lists are missing or stale), then
# retries once.
aiproxy_apt() {
	if ! aiproxy_run apt-get -q -y "$@"; then
		aiproxy_run apt-get -q update || aiproxy_die "apt-get update failed"
		aiproxy_run apt-get -q -y "$@" || aiproxy_die "apt-get $* failed"
	fi
}

# aiproxy_apt_install PKG...: installs the system packages that are missing (e.g. gcc on a
# fresh machine). Needs root.
aiproxy_apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	[ "$(id -u)" = 0 ] || aiproxy_die "needs these Debian packages, and root to install them: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive aiproxy_apt install --no-install-recommends "${missing[@]}"
}

# aiproxy_trixie_apt ARGS...: apt-get ARGS against Debian trixie through a private APT
# configuration (the system's sources, preferences and status are not read or written).
# Its package lists are fetched the first time, and again only when ARGS fail.
aiproxy_trixie_apt() {
	local a=$AIPROXY_CACHE/apt-trixie uri
	if [ ! -f "$a/apt.conf" ]; then
		mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/parts" "$a/prefs"
		# the Debian mirror the system itself uses
		uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
		[ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
		[ -n "$uri" ] || uri=http://deb.debian.org/debian
		cat >"$a/sources.list" <<-EOF
			deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
			deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
		EOF
		: >"$a/status"
		cat >"$a/apt.conf" <<-EOF
			Dir::Etc::sourcelist "$a/sources.list";
			Dir::Etc::sourceparts "$a/parts";
			Dir::Etc::preferencesparts "$a/prefs";
			Dir::State "$a";
			Dir::State::lists "$a/lists";
			Dir::State::status "$a/status";
			Dir::Cache "$a/cache";
			APT::Architecture "$AIPROXY_ARCH";
			APT::Sandbox::User "root";
		EOF
	fi
	if ! compgen -G "$a/lists/*_Packages*" >/dev/null; then
		APT_CONFIG=$a/apt.conf aiproxy_run apt-get -q update || aiproxy_die "apt-get update (trixie) failed"
	fi
	if ! APT_CONFIG=$a/apt.conf aiproxy_run apt-get -q -y "$@"; then
		APT_CONFIG=$a/apt.conf aiproxy_run apt-get -q update || aiproxy_die "apt-get update (trixie) failed"
		APT_CONFIG=$a/apt.conf aiproxy_run apt-get -q -y "$@" || aiproxy_die "apt-get $* (trixie) failed"
	fi
}

# aiproxy_unpack DIR: unpacks every .deb in the current folder into DIR (no maintainer scripts).
aiproxy_unpack() {
	local f
	for f in *.deb; do
		aiproxy_run dpkg-deb -x "$f" "$1" || aiproxy_die "cannot unpack $f"
	done
}

# aiproxy_wait SECONDS CMD...: retries CMD every 0.1 s until it succeeds or SECONDS pass.
aiproxy_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# aiproxy_ms: milliseconds since the epoch, for the timing shown on the status line.
aiproxy_ms() { date +%s%3N; }
