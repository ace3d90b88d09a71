# Redis for the tests: sourced (bash) by scripts/services.sh.
#
#   redis7: Debian bookworm's redis-server 7 on 127.0.0.1:16379 -> AIPROXY_REDIS7_ADDR
#           (no Vector Sets: the store keeps vectors in hashes and searches client-side)
#   redis8: Debian trixie's redis-server 8 on 127.0.0.1:16380  -> AIPROXY_REDIS8_ADDR
#           (Vector Sets: VADD/VSIM), run on bookworm through trixie's own dynamic loader and
#           libraries in a private folder, so the system's libc is not touched.
#
# Both are unpacked from their .debs (apt-get download + dpkg-deb -x: no maintainer scripts, no
# systemd unit) into ${XDG_CACHE_HOME:-$HOME/.cache}/aiproxy/redis{7,8}/, and run without
# persistence. A server already answering on the port is reused when it is the right major
# version. A variable already set to another address is kept as it is (point it at your own
# server); set to the default address (an earlier source), the server is checked again.
# Ports: AIPROXY_REDIS7_PORT, AIPROXY_REDIS8_PORT.
#
# Also runnable on its own: `bash scripts/services/redis.sh 7` (or 8) prints ADDR<TAB>STATUS.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -euo pipefail
	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

	# redis_probe PORT: prints "VERSION VSETS" (VSETS is yes or no) for the Redis answering on
	# 127.0.0.1:PORT, or fails when nothing answers. Speaks RESP over bash's /dev/tcp, so it
	# needs no redis-cli.
	redis_probe() {
		local fd line n body version vsets=no
		exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
		printf 'INFO server\r\nVCARD aiproxy:services:probe\r\n' >&"$fd"
		IFS= read -r -t 3 line <&"$fd" || { exec {fd}>&-; return 1; }
		line=${line%$'\r'}
		[[ $line == \$* ]] || { exec {fd}>&-; return 1; }
		n=${line#\$}
		IFS= read -r -N "$((n + 2))" -t 3 body <&"$fd" || { exec {fd}>&-; return 1; }
		version=$(printf '%s\n' "$body" | tr -d '\r' | awk -F: '$1=="redis_version"{print $2}')
		IFS= read -r -t 3 line <&"$fd" || true
		[[ $line == :* ]] && vsets=yes # an integer reply: VCARD exists; else "-ERR unknown command"
		exec {fd}>&-
		[ -n "$version" ] || return 1
		echo "$version $vsets"
	}

	redis_install7() { # DIR
		local d=$1
		[ -x "$d/root/usr/bin/redis-server" ] && return 0
		rm -rf "$d/tmp" && mkdir -p "$d/tmp" && cd "$d/tmp"
		aiproxy_apt download redis-server redis-tools libjemalloc2 liblzf1 libssl3
		aiproxy_unpack root
		local missing
		missing=$(LD_LIBRARY_PATH="$d/tmp/root/usr/lib/$AIPROXY_MULTIARCH" ldd root/usr/bin/redis-server | grep 'not found' || true)
		[ -z "$missing" ] || aiproxy_die "redis-server 7 misses libraries: $missing"
		cd "$d" && rm -rf root && mv tmp/root root && rm -rf tmp
	}

	redis_install8() { # DIR
		local d=$1
		[ -x "$d/root/usr/bin/redis-server" ] && return 0
		rm -rf "$d/tmp" && mkdir -p "$d/tmp" && cd "$d/tmp"
		aiproxy_trixie_apt download redis-server/trixie redis-tools/trixie libc6/trixie \
			liblzf1/trixie libjemalloc2/trixie libssl3t64/trixie libstdc++6/trixie \
			libgcc-s1/trixie libatomic1/trixie libsystemd0/trixie libcap2/trixie
		aiproxy_unpack root
		local l=$d/tmp/root/usr/lib/$AIPROXY_MULTIARCH ld
		ld=$(ls "$l"/ld-linux*.so.* | head -n1)
		local missing
		missing=$("$ld" --library-path "$l" --list root/usr/bin/redis-server | grep 'not found' || true)
		[ -z "$missing" ] || aiproxy_die "redis-server 8 misses libraries: $missing"
		cd "$d" && rm -rf root && mv tmp/root root && rm -rf tmp
	}

	# redis_up MAJOR PORT: prints ADDR<TAB>STATUS.
	redis_up() {
		local major=$1 port=$2 d=$AIPROXY_CACHE/redis$1 t0 how probe
		t0=$(aiproxy_ms)
		aiproxy_begin "redis$major"
		if probe=$(redis_probe "$port" 2>/dev/null); then
			how=reused
		else
			how=started
			mkdir -p "$d"
			"redis_install$major" "$d"
			mkdir -p "$d/run"
			local args=(--port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes
				--dir "$d/run" --pidfile "$d/run/redis.pid" --logfile "$d/run/redis.log")
			: >"$d/run/redis.log"
			if [ "$major" = 7 ]; then
				LD_LIBRARY_PATH="$d/root/usr/lib/$AIPROXY_MULTIARCH" aiproxy_run "$d/root/usr/bin/redis-server" "${args[@]}" ||
					aiproxy_die "redis-server 7 did not start: $(tail -n 5 "$d/run/redis.log")"
			else
				local l=$d/root/usr/lib/$AIPROXY_MULTIARCH ld
				ld=$(ls "$l"/ld-linux*.so.* | head -n1)
				aiproxy_run "$ld" --library-path "$l" "$d/root/usr/bin/redis-server" "${args[@]}" ||
					aiproxy_die "redis-server 8 did not start: $(tail -n 5 "$d/run/redis.log")"
			fi
			aiproxy_wait 10 redis_probe "$port" ||
				aiproxy_die "redis-server $major is not answering on 127.0.0.1:$port; its log $d/run/redis.log ends: $(tail -n 2 "$d/run/redis.log")"
			probe=$(redis_probe "$port")
		fi
		local version=${probe% *} vsets=${probe#* }
		[ "${version%%.*}" = "$major" ] ||
			aiproxy_die "127.0.0.1:$port runs Redis $version, not Redis $major; stop it or set AIPROXY_REDIS${major}_PORT"
		if [ "$major" = 8 ] && [ "$vsets" != yes ]; then
			aiproxy_die "the Redis $version on 127.0.0.1:$port has no Vector Sets (VADD/VSIM)"
		fi
		local extra=""
		[ "$vsets" = yes ] && extra=", Vector Sets"
		printf '127.0.0.1:%s\tredis%s: 127.0.0.1:%s Redis %s%s (%s in %d ms)\n' \
			"$port" "$major" "$port" "$version" "$extra" "$how" "$(($(aiproxy_ms) - t0))"
	}

	case ${1:-} in
	7) redis_up 7 "${AIPROXY_REDIS7_PORT:-16379}" ;;
	8) redis_up 8 "${AIPROXY_REDIS8_PORT:-16380}" ;;
	*)
		echo "usage: bash $0 7|8" >&2
		exit 2
		;;
	esac
	exit 0
fi

# Sourced: start both (or check that they still run, when an earlier source set the
# variables), export their addresses, print one line each.
for _aiproxy_major in 7 8; do
	_aiproxy_var=AIPROXY_REDIS${_aiproxy_major}_ADDR
	_aiproxy_port_var=AIPROXY_REDIS${_aiproxy_major}_PORT
	_aiproxy_default=16379
	[ "$_aiproxy_major" = 7 ] || _aiproxy_default=16380
	_aiproxy_default=127.0.0.1:${!_aiproxy_port_var:-$_aiproxy_default}
	if [ -z "${!_aiproxy_var:-}" ] || [ "${!_aiproxy_var}" = "$_aiproxy_default" ]; then
		_aiproxy_out=$(bash "${BASH_SOURCE[0]}" "$_aiproxy_major") || return 1
		export "$_aiproxy_var=${_aiproxy_out%%$'\t'*}"
		echo "${_aiproxy_out#*$'\t'}"
	else
		echo "redis$_aiproxy_major: ${!_aiproxy_var} ($_aiproxy_var was set: not started)"
	fi
done
unset _aiproxy_major _aiproxy_var _aiproxy_port_var _aiproxy_default _aiproxy_out
