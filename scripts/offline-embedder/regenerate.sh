#!/usr/bin/env bash
# Regenerates embed/offline/model.bin from Debian packages, deterministically. See README.md.
#
#   scripts/offline-embedder/regenerate.sh [WORKDIR]
#
# WORKDIR (default: a new temporary directory) receives the .debs, the corpus, fastText's
# output and the new model.bin; nothing outside it is written. The script then checks that
# the new model.bin has the SHA-256 of the committed embed/offline/model.bin (git HEAD's)
# and exits 1 if not: inputs changed or the build is not deterministic. To adopt a new
# model deliberately, copy WORKDIR/model.bin over embed/offline/model.bin and run the
# embed/offline tests. Needs apt-get (Debian bookworm sources), dpkg-deb, git and Go;
# installs the pinned fastText if it is missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
cd "$work"

# Pinned inputs. The fastText version matters for bit-exact output; the data packages only
# through their text.
WORDNET=1:3.0-37
PYDOC=3.11.2-6+deb12u8
NODEDOC=18.20.4+dfsg-1~deb12u2
GCIDE=0.48.5+nmu2
FOLDOC=20230119-1
JARGON=4.4.7-3.1
VERA=1:1.24-1
FASTTEXT=0.9.2+ds-1+b1

if [ "$(dpkg-query -W -f='${Version}' fasttext 2>/dev/null || true)" != "$FASTTEXT" ]; then
	apt-get install -y "fasttext=$FASTTEXT"
fi
apt-get download "wordnet-base=$WORDNET" "python3.11-doc=$PYDOC" "nodejs-doc=$NODEDOC" \
	"dict-gcide=$GCIDE" "dict-foldoc=$FOLDOC" "dict-jargon=$JARGON" "dict-vera=$VERA"
rm -rf root && mkdir root
for deb in ./*.deb; do dpkg-deb -x "$deb" root; done

gen() { (cd "$repo" && go run ./embed/offline/internal/gen "$@"); }
start=$SECONDS

gen corpus "$work/root" "$work/corpus.txt"
# One thread and a fixed seed: fastText's training is then deterministic.
fasttext skipgram -input corpus.txt -output vectors -dim 100 -epoch 5 -minCount 3 -maxn 0 \
	-thread 1 -seed 1 -verbose 1
gen pack "$work/vectors.vec" "$work/corpus.txt" "$work/model.bin"
echo "regenerated in $((SECONDS - start)) s"

want="$(git -C "$repo" show HEAD:embed/offline/model.bin | sha256sum | cut -d' ' -f1)"
got="$(sha256sum "$work/model.bin" | cut -d' ' -f1)"
echo "committed embed/offline/model.bin: sha256 $want"
echo "regenerated $work/model.bin: sha256 $got"
if [ "$got" != "$want" ]; then
	echo "MISMATCH: the regenerated model differs from the committed one (changed inputs, or a" >&2
	echo "non-deterministic build). To adopt it: cp '$work/model.bin' '$repo/embed/offline/model.bin'" >&2
	exit 1
fi
echo "identical: the committed model.bin is reproduced bit for bit"
