#!/usr/bin/env bash
# Regenerates embed/offline/model.bin from Debian packages, deterministically. See README.md.
#
#   scripts/offline-embedder/regenerate.sh [WORKDIR]
#
# WORKDIR (default: a new temporary directory) receives the .debs, the corpus and fastText's
# output; nothing outside it and embed/offline/model.bin is written. Needs apt-get (Debian
# bookworm sources), dpkg-deb and Go; installs the pinned fastText if it is missing.
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
FASTTEXT=0.9.2+ds-1+b1

if [ "$(dpkg-query -W -f='${Version}' fasttext 2>/dev/null || true)" != "$FASTTEXT" ]; then
	apt-get install -y "fasttext=$FASTTEXT"
fi
apt-get download "wordnet-base=$WORDNET" "python3.11-doc=$PYDOC" "nodejs-doc=$NODEDOC"
rm -rf root && mkdir root
for deb in ./*.deb; do dpkg-deb -x "$deb" root; done

gen() { (cd "$repo" && go run ./embed/offline/internal/gen "$@"); }
start=$SECONDS

gen corpus "$work/root" "$work/corpus.txt"
# One thread and a fixed seed: fastText's training is then deterministic.
fasttext skipgram -input corpus.txt -output vectors -dim 100 -epoch 5 -minCount 3 -maxn 0 \
	-thread 1 -seed 1 -verbose 1
gen pack "$work/vectors.vec" "$work/corpus.txt" "$repo/embed/offline/model.bin"
sha256sum "$repo/embed/offline/model.bin"
echo "regenerated in $((SECONDS - start)) s"
