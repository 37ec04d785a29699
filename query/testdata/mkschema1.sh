#!/bin/sh
# Rebuilds schema1-mkcapture-small.duckdb.gz: a database written by the
# last pcapq without a schema version (schema 1, commit 3778535), for the
# migration tests (query/migrate_test.go). It builds pcapq at that commit
# in a temporary git worktree and ingests, from /tmp/pcapq-schema1 (the
# paths stored in captures.path):
#   mkcapture-small.pcap  (testdata/mkcapture-small.pcap)
#   caf<0xE9>.pcap        (testdata/http-gzip.pcap under a Latin-1 name,
#                          which schema 1 stored as the text caf\xe9.pcap)
# Needs git, Go and a C compiler (cgo, as make build). Run from anywhere:
#   sh query/testdata/mkschema1.sh
set -eu
commit=3778535
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
work=$(mktemp -d)
cleanup() {
	git -C "$repo" worktree remove --force "$work/src" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach "$work/src" "$commit" >/dev/null
(cd "$work/src" && CGO_ENABLED=1 go build -tags=duckdb_arrow -o "$work/pcapq" ./cmd/pcapq)
in=/tmp/pcapq-schema1
rm -rf "$in"
mkdir -p "$in"
cp "$repo/testdata/mkcapture-small.pcap" "$in/mkcapture-small.pcap"
cp "$repo/testdata/http-gzip.pcap" "$in/$(printf 'caf\351.pcap')"
"$work/pcapq" ingest -q "$in/mkcapture-small.pcap" "$in/$(printf 'caf\351.pcap')" -o "$work/schema1.duckdb"
rm -rf "$in"
gzip -9 -n -c "$work/schema1.duckdb" >"$here/schema1-mkcapture-small.duckdb.gz"
echo "wrote $here/schema1-mkcapture-small.duckdb.gz"
