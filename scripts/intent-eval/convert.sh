#!/bin/sh
# Rebuilds embed/offline/testdata/intents/{banking77,hwu64,snips}.tsv from the public
# repositories of Banking77, HWU64 and SNIPS at pinned commits (see the NOTICE there).
#
#   scripts/intent-eval/convert.sh [SRCDIR]
#
# SRCDIR holds (or receives, by git clone) one checkout per repository, named as below; a
# directory there that is not a git checkout (say, an export of the same commit) is used as is.
# The output is deterministic; the script ends with git diff --stat of the data.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:-${TMPDIR:-/tmp}/intent-eval-src}
mkdir -p "$src"

checkout() { # name url commit
	if [ -d "$src/$1" ] && [ ! -e "$src/$1/.git" ]; then
		echo "$1: using $src/$1 as is (not a git checkout, expected at $3)"
		return
	fi
	if [ ! -d "$src/$1/.git" ]; then
		git clone --quiet "$2" "$src/$1"
	fi
	git -C "$src/$1" -c advice.detachedHead=false checkout --quiet "$3"
	echo "$1 at $(git -C "$src/$1" rev-parse HEAD)"
}
checkout task-specific-datasets https://github.com/PolyAI-LDN/task-specific-datasets 57ec275d8078af65b7731c2a98be812d844a6d6b
checkout NLU-Evaluation-Data https://github.com/xliuhw/NLU-Evaluation-Data f6071b496b17d71e6eb43f543af0707f4ff30557
checkout nlu-benchmark https://github.com/sonos/nlu-benchmark b86ac7f1577868c42158d0dec77db50956046696

out=$root/embed/offline/testdata/intents
cd "$root"
go run ./embed/offline/internal/intenteval/convert \
	-banking77 "$src/task-specific-datasets" \
	-hwu64 "$src/NLU-Evaluation-Data" \
	-snips "$src/nlu-benchmark" \
	-out "$out"
wc -l "$out"/*.tsv
git -C "$root" diff --stat -- "$out"
