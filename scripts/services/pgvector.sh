# PostgreSQL 15 + pgvector for the tests: sourced (bash) by scripts/services.sh.
#
#   pgvector: PostgreSQL 15 (Debian bookworm's postgresql-15; installed with apt-get when
#             missing) with the pgvector extension built from Debian trixie's source package,
#             on 127.0.0.1:15433 with trust authentication -> AIPROXY_PGVECTOR_URL
#
# The build goes into a relocatable copy of the system's PostgreSQL 15 under
# ${XDG_CACHE_HOME:-$HOME/.cache}/aiproxy/pgvector/root, so nothing under /usr changes. Only the
# headers come from postgresql-server-dev-15, unpacked there with dpkg-deb, not installed. gcc
# and make are installed with apt-get when missing. The server keeps its data in
# .../pgvector/data, or, when run as root and the postgres user cannot enter the cache (root's
# home is usually private), in ${TMPDIR:-/tmp}/aiproxy-pgvector-PORT with a linked copy of the
# tree. A server already answering on the port with pgvector available is reused. A variable set
# to another URL is kept as it is (point it at your own server). Port: AIPROXY_PGVECTOR_PORT.
#
# Also runnable on its own: `bash scripts/services/pgvector.sh` prints URL<TAB>STATUS.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -euo pipefail
	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

	PGV=15
	PGBIN=/usr/lib/postgresql/$PGV/bin # the system's, for the client tools
	PORT=${AIPROXY_PGVECTOR_PORT:-15433}
	D=$AIPROXY_CACHE/pgvector
	URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"

	# pg_vector_version: the pgvector version the server on PORT offers, or fails.
	pg_vector_version() {
		"$PGBIN/psql" -X -q -w -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc \
			"select default_version from pg_available_extensions where name = 'vector'" 2>/dev/null
	}

	pg_build() {
		local stamp=$D/root/usr/share/postgresql/$PGV/extension/vector.control
		[ -f "$stamp" ] && return 0
		aiproxy_apt_install gcc make libc6-dev
		rm -rf "$D/tmp" && mkdir -p "$D/tmp" && cd "$D/tmp"
		aiproxy_trixie_apt source --download-only pgvector/trixie
		aiproxy_run tar -xzf pgvector_*.orig.tar.gz || aiproxy_die "cannot unpack pgvector's source"
		local src
		src=$(ls -d "$D"/tmp/pgvector-*/ | head -n1)
		aiproxy_apt download "postgresql-server-dev-$PGV"
		aiproxy_unpack devroot
		# OPTFLAGS= drops -march=native (as Debian's no-native patch does): the build runs anywhere.
		local mk=(PG_CONFIG="$PGBIN/pg_config" with_llvm=no OPTFLAGS=
			includedir_server="$D/tmp/devroot/usr/include/postgresql/$PGV/server")
		aiproxy_run make -C "$src" -j2 "${mk[@]}" || aiproxy_die "building pgvector failed"
		aiproxy_run make -C "$src" install "${mk[@]}" DESTDIR="$D/tmp/root" || aiproxy_die "installing pgvector failed"
		mkdir -p root/usr/lib/postgresql root/usr/share/postgresql
		aiproxy_run cp -an "/usr/lib/postgresql/$PGV" root/usr/lib/postgresql/
		aiproxy_run cp -an "/usr/share/postgresql/$PGV" root/usr/share/postgresql/
		date +%s%N >root/.build-id
		cd "$D" && rm -rf root && mv tmp/root root && rm -rf tmp
	}

	# as_pg CMD...: runs CMD as the postgres user when we are root (PostgreSQL refuses root).
	as_pg() {
		if [ "$(id -u)" = 0 ]; then
			(cd / && runuser -u postgres -- "$@")
		else
			"$@"
		fi
	}

	pg_up() {
		local t0 how version
		t0=$(aiproxy_ms)
		aiproxy_begin pgvector
		if [ -x "$PGBIN/pg_isready" ] && "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
			how=reused
		else
			how=started
			aiproxy_apt_install "postgresql-$PGV"
			mkdir -p "$D"
			pg_build
			# R: where the server runs from (its binaries and data).
			local R=$D
			if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$D/root/usr/lib/postgresql/$PGV/bin/postgres"; then
				R=${TMPDIR:-/tmp}/aiproxy-pgvector-$PORT
				mkdir -p "$R" && chmod 755 "$R"
				if ! cmp -s "$D/root/.build-id" "$R/root/.build-id"; then
					rm -rf "$R/root"
					cp -al "$D/root" "$R/root" 2>/dev/null || aiproxy_run cp -a "$D/root" "$R/root"
				fi
			fi
			local B=$R/root/usr/lib/postgresql/$PGV/bin
			mkdir -p "$R/data" "$R/sock"
			[ "$(id -u)" != 0 ] || chown postgres: "$R/data" "$R/sock"
			chmod 700 "$R/data"
			if [ ! -f "$R/data/PG_VERSION" ]; then
				aiproxy_run as_pg "$B/initdb" -D "$R/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 ||
					aiproxy_die "initdb failed"
			fi
			aiproxy_run as_pg "$B/pg_ctl" -D "$R/data" -l "$R/sock/postgres.log" -w -t 30 -o \
				"-p $PORT -k $R/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
				start || aiproxy_die "PostgreSQL did not start: $(tail -n 5 "$R/sock/postgres.log" 2>/dev/null)"
		fi
		version=$(pg_vector_version) ||
			aiproxy_die "cannot connect as postgres (trust) to 127.0.0.1:$PORT"
		[ -n "$version" ] ||
			aiproxy_die "the PostgreSQL on 127.0.0.1:$PORT has no pgvector; stop it or set AIPROXY_PGVECTOR_PORT"
		local server
		server=$("$PGBIN/psql" -X -q -w -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc "show server_version")
		printf '%s\tpgvector: 127.0.0.1:%s PostgreSQL %s, pgvector %s (%s in %d ms)\n' \
			"$URL" "$PORT" "${server%% *}" "$version" "$how" "$(($(aiproxy_ms) - t0))"
	}

	pg_up
	exit 0
fi

# Sourced: start it (or check that it still runs, when an earlier source set the variable),
# export its URL, print one line.
if [ -z "${AIPROXY_PGVECTOR_URL:-}" ] ||
	[ "$AIPROXY_PGVECTOR_URL" = "postgres://postgres@127.0.0.1:${AIPROXY_PGVECTOR_PORT:-15433}/postgres?sslmode=disable" ]; then
	_aiproxy_out=$(bash "${BASH_SOURCE[0]}") || return 1
	export AIPROXY_PGVECTOR_URL=${_aiproxy_out%%$'\t'*}
	echo "${_aiproxy_out#*$'\t'}"
	unset _aiproxy_out
else
	echo "pgvector: $AIPROXY_PGVECTOR_URL (AIPROXY_PGVECTOR_URL was set: not started)"
fi
