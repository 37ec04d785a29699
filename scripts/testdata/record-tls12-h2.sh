#!/usr/bin/env bash
# record-tls12-h2.sh: record testdata/mkcapture-tls12-h2.pcap, the TLS 1.2
# connection that negotiates h2 by ALPN, which record-proto.sh drops from
# mkcapture-proto.pcap for its size (an 800 kB download). In TLS 1.3 the
# server's ALPN choice is encrypted (EncryptedExtensions); in TLS 1.2 it is
# in the clear in the ServerHello, so this is the capture where the tls
# table's alpn column can be checked to be "h2".
#
# Usage (root): scripts/testdata/record-tls12-h2.sh
#
# It records with the shared mkcapture tool (unmodified), finds the
# connection whose ServerHello has no supported_versions extension (TLS
# 1.2) and selects ALPN "h2", and keeps that connection's first 30 frames:
# the handshake, the certificate and the start of the encrypted h2 stream.
# Only this one connection is kept, and only its start (the analyzers
# see a connection that the capture ends).
#
# Traffic flows only between the two namespaces mkcapture creates
# (10.171.0.0/24, fd00:171::/64).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
td=$repo/testdata
mkcapture=${MKCAPTURE:-$(cd "$repo/.." && pwd)/shared/tools/mkcapture}
[ -x "$mkcapture" ] || mkcapture=/work/shared/tools/mkcapture
command -v tshark >/dev/null || { echo "record-tls12-h2.sh: missing tshark" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

MKCAPTURE_NET=171 MKCAPTURE_PREFIX=pqh2$$ MKCAPTURE_EVENTS="$work/events" \
  "$mkcapture" "$work/full.pcap" 1 0

stream=$(tshark -n -r "$work/full.pcap" \
  -Y 'tls.handshake.type == 2 && !tls.handshake.extensions.supported_version && tls.handshake.extensions_alpn_str == "h2"' \
  -T fields -e tcp.stream | head -1)
[ -n "$stream" ] || { echo "record-tls12-h2.sh: no TLS 1.2 connection selected h2" >&2; exit 1; }
frames=$(tshark -n -r "$work/full.pcap" -Y "tcp.stream == $stream" -T fields -e frame.number | head -30 | paste -sd, -)
tshark -n -r "$work/full.pcap" -Y "frame.number in {$frames}" -w "$td/mkcapture-tls12-h2.pcap"
grep -- '--tls-max 1.2 .*--http2' "$work/events" > "$td/mkcapture-tls12-h2.events"
ls -la "$td"/mkcapture-tls12-h2.* >&2
