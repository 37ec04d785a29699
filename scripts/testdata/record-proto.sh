#!/usr/bin/env bash
# record-proto.sh: record testdata/mkcapture-proto.pcap, the capture behind the
# dns, tls and websocket analyzers' conformance tests, with the shared
# mkcapture tool (unmodified), and keep it small.
#
# Usage (root): scripts/testdata/record-proto.sh
#
# mkcapture records, in this order: ping, DNS over UDP (A, and a name that
# does not exist), plain HTTP with curl (HTTP/1.0, close, gzip, POST, 404,
# 302, IPv6, port 8088), DNS over TCP, DNS AAAA, HTTPS with curl (TLS 1.2
# and 1.3, HTTP/1.1 and h2 by ALPN, SNI, a forced TLS 1.2 cipher, IPv4 and
# IPv6), two WebSocket sessions through nginx (IPv4 and IPv6), then wrk's
# load. The script keeps the frames up to the last WebSocket session's
# final ACK (everything before wrk starts), then drops the TCP connections
# that carry more than 200 kB (the 1 MB large.bin download over IPv6 and the
# 800 kB text.txt over TLS 1.2 + h2), so the file stays well under 1 MB.
# Whole connections are dropped, never parts of one.
#
# Written beside the capture:
#   mkcapture-proto.events  MKCAPTURE_EVENTS: one line per TLS request
#                           (tls ARGS URL HTTP_VERSION STATUS) and per
#                           WebSocket message (ws DIRECTION OPCODE LENGTH)
#   mkcapture-proto.keylog  MKCAPTURE_KEYLOG: the TLS secrets (NSS key log)
#
# Traffic flows only between the two namespaces mkcapture creates
# (10.170.0.0/24, fd00:170::/64).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
td=$repo/testdata
mkcapture=${MKCAPTURE:-$(cd "$repo/.." && pwd)/shared/tools/mkcapture}
[ -x "$mkcapture" ] || mkcapture=/work/shared/tools/mkcapture
for t in tshark editcap; do
  command -v "$t" >/dev/null || { echo "record-proto.sh: missing $t" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

MKCAPTURE_NET=170 MKCAPTURE_PREFIX=pqproto$$ \
  MKCAPTURE_EVENTS="$work/events" MKCAPTURE_KEYLOG="$work/keylog" \
  "$mkcapture" "$work/full.pcap" 1 0

# The last frame of the last WebSocket connection (the IPv6 one, after
# which wrk starts).
last_stream=$(tshark -n -r "$work/full.pcap" -Y 'websocket' -T fields -e tcp.stream | tail -1)
last_frame=$(tshark -n -r "$work/full.pcap" -Y "tcp.stream == $last_stream" -T fields -e frame.number | tail -1)
editcap -r "$work/full.pcap" "$work/cut.pcap" "1-$last_frame"

# TCP connections over 200 kB (bytes on the wire, both directions).
big=$(tshark -n -r "$work/cut.pcap" -T fields -e tcp.stream -e frame.len -Y tcp |
  awk '{b[$1] += $2} END {for (s in b) if (b[s] > 200000) print "tcp.stream != " s}' | sort | paste -sd'&' - | sed 's/&/ \&\& /g')
if [ -n "$big" ]; then
  tshark -n -r "$work/cut.pcap" -Y "!tcp || ($big)" -w "$work/proto.pcap"
else
  cp "$work/cut.pcap" "$work/proto.pcap"
fi

cp "$work/proto.pcap" "$td/mkcapture-proto.pcap"
cp "$work/events" "$td/mkcapture-proto.events"
cp "$work/keylog" "$td/mkcapture-proto.keylog"
ls -la "$td"/mkcapture-proto.* >&2
