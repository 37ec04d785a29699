#!/usr/bin/env bash
# record.sh: re-record every capture in testdata/ with real clients and servers,
# then regenerate the tshark expectations (*.tshark.tsv), CAPINFOS.tsv and the
# per-file stats in README.md.
#
# Usage (root): scripts/testdata/record.sh [all|mkcapture|http|expect|pairing]
#   all        (default) everything below but pairing
#   mkcapture  testdata/mkcapture-small{,-mix}.pcap via ../shared/tools/mkcapture
#   http       the small focused HTTP captures (nginx + scripts/testdata/httpfixture)
#   expect     only regenerate *.tshark.tsv, CAPINFOS.tsv, README.md from the pcaps
#   pairing    httpextract/testdata/http-pipelined-70.pcap and
#              httpextract/testdata/http-keepalive-lost-status-line.pcap (request/response
#              pairing against tshark, see httpextract/tshark_test.go); run alone
#
# Traffic only ever flows between two network namespaces this script creates
# (10.98.0.1 server, 10.98.0.2 client, over a veth pair with offloads off, so
# frames are MTU-sized); tcpdump records on the client end of the veth.
# Namespaces, processes and temp files are removed on exit.
# Needs: nginx curl tcpdump ip ethtool go tshark capinfos gzip (and for
# mkcapture: wrk dnsmasq dig ping nft).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
td=$repo/testdata
what=${1:-all}
mkcapture=${MKCAPTURE:-$(cd "$repo/.." && pwd)/shared/tools/mkcapture}
[ -x "$mkcapture" ] || mkcapture=/work/shared/tools/mkcapture

# mkcapture knobs. mkcapture's only size knobs are its arguments: wrk runs for
# whole seconds (1 is the minimum) and "1 50" gives ~60-80 MB, so the loss rate
# is what keeps these small: dropping 1 in 3 (web mix) / 1 in 10 (small mix) of
# the server's segments slows wrk to ~100 / ~1300 requests in its second.
# Sizes vary run to run (large.bin is 1 MB), so a run over the limit is redone.
MKC_WEB_ARGS=${MKC_WEB_ARGS:-"1 3"}
MKC_MIX_ARGS=${MKC_MIX_ARGS:-"1 10"}
MKC_MAX_BYTES=${MKC_MAX_BYTES:-3000000}
MKC_TRIES=${MKC_TRIES:-10}

p=pqrec$$
srv=${p}s cli=${p}c
s4=10.98.0.1 c4=10.98.0.2
work=$(mktemp -d)
pids=()

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  sleep 0.3
  ip netns del "$srv" 2>/dev/null
  ip netns del "$cli" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
record_mkcapture() {
  local name=$1 mix=$2 args=$3 try size
  for try in $(seq 1 "$MKC_TRIES"); do
    say "mkcapture $name (MKCAPTURE_MIX=$mix, args $args), try $try"
    # shellcheck disable=SC2086
    MKCAPTURE_MIX=$mix MKCAPTURE_NET=97 MKCAPTURE_ACCESS_LOG="$work/$name.access.log" \
      "$mkcapture" "$work/$name.pcap" $args
    size=$(stat -c %s "$work/$name.pcap")
    if [ "$size" -le "$MKC_MAX_BYTES" ]; then
      mv "$work/$name.pcap" "$td/$name.pcap"
      mv "$work/$name.access.log" "$td/$name.access.log"
      chown "$(id -u):$(id -g)" "$td/$name.pcap"
      return 0
    fi
    say "$name: $size bytes > $MKC_MAX_BYTES, recording again"
  done
  echo "record.sh: $name stayed over $MKC_MAX_BYTES bytes in $MKC_TRIES tries" >&2
  return 1
}

# ---------------------------------------------------------------------------
setup_http() {
  for t in nginx curl tcpdump ip ethtool go gzip; do
    command -v "$t" >/dev/null || { echo "record.sh: missing $t" >&2; exit 2; }
  done
  (cd "$repo" && go build -o "$work/httpfixture" ./scripts/testdata/httpfixture)

  ip netns add "$srv"; ip netns add "$cli"
  ip link add "${p}a" type veth peer name "${p}b"
  ip link set "${p}a" netns "$srv"; ip link set "${p}b" netns "$cli"
  for ns in "$srv" "$cli"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n "$srv" addr add $s4/24 dev "${p}a"; ip -n "$cli" addr add $c4/24 dev "${p}b"
  ip -n "$srv" link set "${p}a" up mtu 1500; ip -n "$cli" link set "${p}b" up mtu 1500
  ip netns exec "$srv" ethtool -K "${p}a" tso off gso off gro off tx off >/dev/null 2>&1 || true
  ip netns exec "$cli" ethtool -K "${p}b" tso off gso off gro off tx off >/dev/null 2>&1 || true

  # Fixed (non-random) content so re-recordings differ only in timing and ports.
  local www=$work/www
  mkdir -p "$www/static" "$www/dyn" "$work/tmp"
  printf 'a\n' > "$www/a.txt"
  printf '{"b":[1,2,3]}\n' > "$www/b.json"
  seq 1 40 | sed 's/^/pipelined response line /' > "$www/c.txt"
  seq 1 300 | sed 's/^/cacheable page line /' > "$www/page.html"
  touch -d '2024-01-02 03:04:05 UTC' "$www/page.html"
  seq 1 2000 | sed 's/^/line of compressible text number /' > "$www/static/text.txt"
  cp "$www/static/text.txt" "$www/dyn/text.txt"
  gzip -9 -n -k "$www/static/text.txt"
  touch -r "$www/static/text.txt" "$www/static/text.txt.gz"
  seq 1 300 | sed 's/^/upload body line /' > "$work/body.txt"   # ~6 KB
  chmod -R a+rX "$work"

  cat > "$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 64; }
http {
  access_log $work/access.log;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  types { text/plain txt; text/html html; application/json json; }
  server_tokens off;
  server {
    listen $s4:80;
    root $www;
    location = /upload { client_max_body_size 1m; return 201 "created\n"; }
    location = /nocontent { return 204; }
    location /static/ { gzip_static on; }
    location /dyn/ { gzip on; gzip_types text/plain; gzip_min_length 100; }
  }
}
EOF
  ip netns exec "$srv" nginx -c "$work/nginx.conf"
  ip netns exec "$srv" "$work/httpfixture" serve $s4:8080 2>"$work/httpfixture.log" &
  pids+=($!)
  wait_port 80; wait_port 8080
}

wait_port() {
  local i
  for i in $(seq 1 50); do
    ip netns exec "$cli" bash -c "exec 3<>/dev/tcp/$s4/$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "record.sh: server port $1 not up" >&2; return 1
}

# capture NAME CMD...: record the client veth (TCP only) while CMD runs.
capture() {
  local name=$1; shift
  local f=$td/$name.pcap log=$work/tcpdump.$name.log i
  say "recording $name"
  sleep 0.2   # let the previous capture's stragglers (none expected) pass
  ip netns exec "$cli" tcpdump -i "${p}b" -n -s 0 -U --immediate-mode -Z root -w "$f" tcp >"$log" 2>&1 &
  local tpid=$!
  for i in $(seq 1 50); do grep -qs 'listening on' "$log" && break; sleep 0.1; done
  "$@"
  sleep 1   # let the last segments (FIN/ACK) in, and past libpcap's block timeout
  kill -INT "$tpid"; wait "$tpid" || true
  grep -E 'packets captured' "$log" >&2 || true
}

C() { ip netns exec "$cli" "$@"; }

record_http() {
  setup_http
  capture http-websocket-upgrade C "$work/httpfixture" ws-client $s4:8080
  capture http-pipelined C "$work/httpfixture" pipeline $s4:80 example.test /a.txt /b.json /missing /c.txt
  capture http-100-continue C curl -sS -o /dev/null -H 'Expect: 100-continue' \
    -H 'Content-Type: text/plain' --data-binary @"$work/body.txt" http://$s4/upload
  capture http-chunked C curl -sS -o /dev/null http://$s4:8080/chunked
  capture http-gzip C curl -sS -o /dev/null -H 'Accept-Encoding: gzip' \
    http://$s4/static/text.txt -o /dev/null http://$s4/dyn/text.txt
  capture http-keepalive-head-304-204 C curl -sS -o /dev/null -I http://$s4/page.html \
    --next -sS -o /dev/null -H 'If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT' http://$s4/page.html \
    --next -sS -o /dev/null http://$s4/nocontent
}

# record_pairing: captures for httpextract's tshark pairing test, written
# to httpextract/testdata (the package that tests them).
record_pairing() {
  setup_http
  local out=$repo/httpextract/testdata td_save=$td i frame
  td=$out
  # 70 GETs, one segment each, 2 ms apart; /slow holds the first answer
  # 300 ms, so all 70 are on the wire before any response (Go net/http
  # server answers them in order).
  local pp=(/slow?n=1)
  for i in $(seq 2 70); do pp+=("/p?n=$i"); done
  capture http-pipelined-70 C "$work/httpfixture" pipeline-each $s4:8080 example.test "${pp[@]}"
  # 100 GETs on one keep-alive conn, one at a time; request 40 is /big
  # (4000 B body: 3 segments). Its first segment (status line, headers and
  # the start of the body) is then cut out of the capture.
  local sp=()
  for i in $(seq 1 100); do
    if [ "$i" -eq 40 ]; then sp+=("/big?n=$i"); else sp+=("/s?n=$i"); fi
  done
  capture http-keepalive-raw C "$work/httpfixture" sequential $s4:8080 example.test "${sp[@]}"
  frame=$(tshark -n -r "$out/http-keepalive-raw.pcap" -o http.desegment_body:FALSE \
    -Y 'http.response.code == 200 && http.content_length == 4000' -T fields -e frame.number 2>/dev/null)
  [ -n "$frame" ] || { echo "record.sh: no /big response in http-keepalive-raw" >&2; exit 1; }
  say "cutting frame $frame (status line of the /big response)"
  editcap "$out/http-keepalive-raw.pcap" "$out/http-keepalive-lost-status-line.pcap" "$frame"
  rm -f "$out/http-keepalive-raw.pcap"
  td=$td_save
  ls -la "$out"/*.pcap >&2
}

# ---------------------------------------------------------------------------
PCAPS="mkcapture-small mkcapture-small-mix http-websocket-upgrade http-pipelined http-100-continue http-chunked http-gzip http-keepalive-head-304-204"

tsv() {
  tshark -n -r "$td/$1.pcap" -Y http -T fields -E header=y -E separator=/t \
    -e frame.number -e tcp.stream -e http.request.method -e http.request.uri \
    -e http.response.code -e http.time -e http.content_length -e http.request_in \
    -e http.response_in 2>/dev/null
}
count() { tshark -n -r "$td/$1.pcap" -Y "$2" 2>/dev/null | wc -l; }

# check NAME 'display filter' MIN what: fail unless at least MIN frames match.
fails=0
check() {
  local n; n=$(count "$1" "$2")
  if [ "$n" -ge "$3" ]; then printf '  ok   %-30s %4d x %s\n' "$1" "$n" "$4" >&2
  else printf '  FAIL %-30s %4d x %s (want >= %d)\n' "$1" "$n" "$4" "$3" >&2; fails=$((fails + 1)); fi
}

verify() {
  say "checking captures with tshark"
  check http-websocket-upgrade 'http.response.code == 101' 1 '101 Switching Protocols'
  check http-websocket-upgrade 'websocket' 8 'WebSocket frames'
  check http-websocket-upgrade 'websocket.opcode == 8' 2 'WebSocket close frames'
  check http-pipelined 'http.request' 1 'frames with requests'
  # all requests leave in one segment: one frame carrying >= 4 request lines
  check http-pipelined 'count(http.request.method) >= 4' 1 'frame with 4 pipelined requests'
  check http-pipelined 'http.response' 1 'frames with responses'
  check http-100-continue 'http.response.code == 100' 1 '100 Continue'
  check http-100-continue 'http.request.method == "POST" && http.request.line contains "Expect: 100-continue"' 1 'POST with Expect'
  check http-100-continue 'http.response.code == 201' 1 '201 final response'
  check http-chunked 'http.transfer_encoding == "chunked"' 1 'chunked response'
  check http-chunked 'http.chunked_trailer_part' 1 'chunked trailer'
  check http-gzip 'http.content_encoding == "gzip" && http.content_length' 1 'gzip with Content-Length'
  check http-gzip 'http.content_encoding == "gzip" && http.transfer_encoding == "chunked"' 1 'gzip + chunked'
  check http-keepalive-head-304-204 'http.request.method == "HEAD"' 1 'HEAD'
  check http-keepalive-head-304-204 'http.response.code == 304' 1 '304'
  check http-keepalive-head-304-204 'http.response.code == 204' 1 '204'
  check http-keepalive-head-304-204 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 1 'SYN (want exactly 1)'
  [ "$(count http-keepalive-head-304-204 'tcp.flags.syn == 1 && tcp.flags.ack == 0')" -eq 1 ] ||
    { echo '  FAIL http-keepalive-head-304-204 uses more than one connection' >&2; fails=$((fails + 1)); }
  check mkcapture-small 'http.request' 20 'HTTP requests'
  check mkcapture-small 'dns' 6 'DNS packets'
  check mkcapture-small 'icmp' 6 'ICMP packets'
  check mkcapture-small 'ipv6 && http.request' 2 'HTTP requests over IPv6'
  check mkcapture-small 'tcp.analysis.retransmission || tcp.analysis.lost_segment || tcp.analysis.duplicate_ack' 1 'loss symptoms (retrans/gap/dup ack)'
  check mkcapture-small-mix 'http.request' 500 'HTTP requests'
  check mkcapture-small-mix 'tcp.analysis.retransmission || tcp.analysis.lost_segment || tcp.analysis.duplicate_ack' 1 'loss symptoms (retrans/gap/dup ack)'
  [ "$fails" -eq 0 ] || { echo "record.sh: $fails check(s) failed" >&2; return 1; }
}

describe() {
  case $1 in
  mkcapture-small) echo "mkcapture web mix: nginx+dnsmasq in one netns, wrk (8 keep-alive conns, 1 s; small/medium/json/404/gzip text/1 MB large) + curl (HTTP/1.0, Connection: close, POST, 404, 302, IPv6) + dig + ping from another; the server drops 1 in 3 of its TCP segments (nftables), so RTOs, SACK, out-of-order. Access log beside it: mkcapture-small.access.log (one line per request nginx served)";;
  mkcapture-small-mix) echo "mkcapture MKCAPTURE_MIX=small: same setup, small responses only (small.txt, status.json, 404), wrk with 32 Connection: close conns + 8 keep-alive for 1 s: many short connections; the server drops 1 in 10 of its TCP segments. Access log beside it: mkcapture-small-mix.access.log";;
  http-websocket-upgrade) echo "GET /ws (Upgrade: websocket) -> 101 Switching Protocols from a Go net/http handler that hijacks the conn; then client-masked text (11 B), text (210 B, 16-bit length), binary (300 B), ping, close(1000), each answered unmasked (echo, pong, close). Everything after the 101 is not HTTP";;
  http-pipelined) echo "4 GETs (/a.txt, /b.json, /missing -> 404, /c.txt; last has Connection: close) in ONE TCP segment before any response; nginx answers in order, server closes. Note tshark pairs only the first response with the request frame (request_in/http.time empty for the other 3)";;
  http-100-continue) echo "POST /upload with Expect: 100-continue: headers alone in one segment, nginx answers HTTP/1.1 100 Continue, then the 6192 B body follows in 5 segments, then 201 Created. tshark shows the 100 as a response with no request_in; the 201 is paired with the frame completing the POST";;
  http-chunked) echo "GET /chunked -> Go net/http response with Transfer-Encoding: chunked, 4 chunks flushed 20 ms apart (one segment each), then the last chunk and a trailer X-Body-Crc32 (announced in Trailer:), no Content-Length";;
  http-gzip) echo "one keep-alive conn: GET /static/text.txt via gzip_static -> Content-Encoding: gzip + Content-Length 4911 (4 segments); GET /dyn/text.txt via gzip on -> Content-Encoding: gzip + Transfer-Encoding: chunked";;
  http-keepalive-head-304-204) echo "one keep-alive conn (one SYN): HEAD /page.html -> 200 with Content-Length 7092 but no body; GET /page.html If-Modified-Since = its mtime -> 304 (no body); GET /nocontent -> 204 (no body)";;
  esac
}

# how NAME: the command that made the traffic (HTTP ones run in the client netns
# while `tcpdump -i <client veth> -s 0 -U --immediate-mode -w NAME.pcap tcp` records).
how() {
  case $1 in
  mkcapture-small) echo "MKCAPTURE_ACCESS_LOG=testdata/mkcapture-small.access.log mkcapture testdata/mkcapture-small.pcap $MKC_WEB_ARGS";;
  mkcapture-small-mix) echo "MKCAPTURE_MIX=small MKCAPTURE_ACCESS_LOG=testdata/mkcapture-small-mix.access.log mkcapture testdata/mkcapture-small-mix.pcap $MKC_MIX_ARGS";;
  http-websocket-upgrade) echo "httpfixture ws-client 10.98.0.1:8080 (server: httpfixture serve 10.98.0.1:8080)";;
  http-pipelined) echo "httpfixture pipeline 10.98.0.1:80 example.test /a.txt /b.json /missing /c.txt (server: nginx)";;
  http-100-continue) echo "curl -sS -o /dev/null -H 'Expect: 100-continue' -H 'Content-Type: text/plain' --data-binary @body.txt http://10.98.0.1/upload (server: nginx, return 201)";;
  http-chunked) echo "curl -sS -o /dev/null http://10.98.0.1:8080/chunked (server: httpfixture serve)";;
  http-gzip) echo "curl -sS -H 'Accept-Encoding: gzip' -o /dev/null http://10.98.0.1/static/text.txt -o /dev/null http://10.98.0.1/dyn/text.txt (server: nginx)";;
  http-keepalive-head-304-204) echo "curl -sS -o /dev/null -I http://10.98.0.1/page.html --next -H 'If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT' http://10.98.0.1/page.html --next http://10.98.0.1/nocontent (server: nginx)";;
  esac
}

expectations() {
  say "writing tshark expectations, CAPINFOS.tsv, README.md"
  local n have=""
  for n in $PCAPS; do [ -f "$td/$n.pcap" ] && have="$have $n"; done
  PCAPS=$have
  for n in $PCAPS; do tsv "$n" > "$td/$n.tshark.tsv"; done
  (cd "$td" && capinfos -T -m $(for n in $PCAPS; do echo "$n.pcap"; done)) > "$td/CAPINFOS.tsv"
  {
    echo "# testdata"
    echo
    echo "Real captures recorded by \`scripts/testdata/record.sh\` (root; one command re-records all:"
    echo "\`sudo scripts/testdata/record.sh\`). All traffic is between network namespaces the script creates"
    echo "(10.97.0.0/24 + fd00:97::/64 for mkcapture, 10.98.0.0/24 for the rest), captured with tcpdump on the"
    echo "client end of a veth pair with offloads off (MTU-sized frames, Ethernet link type)."
    echo
    echo "Beside each \`X.pcap\`: \`X.tshark.tsv\` is tshark $(tshark --version 2>/dev/null | head -1 | awk '{print $3}')'s view, the independent expectation:"
    echo "\`tshark -n -r X.pcap -Y http -T fields -E header=y -E separator=/t -e frame.number -e tcp.stream -e http.request.method -e http.request.uri -e http.response.code -e http.time -e http.content_length -e http.request_in -e http.response_in\`."
    echo "\`CAPINFOS.tsv\` is \`capinfos -T -m\` of all pcaps. Retransmissions below count"
    echo "\`tcp.analysis.retransmission || tcp.analysis.fast_retransmission\`; the mkcapture drops happen on the"
    echo "server before the capture point, so a lost segment shows up as \`tcp.analysis.lost_segment\` (\"previous"
    echo "segment not captured\") only when a later segment got through first, and its retransmission then just fills"
    echo "the gap; the flagged retransmissions are mostly the client's (SYNs, requests, ACK-less data) since the"
    echo "server's ACKs are dropped too (the nft rule drops any server TCP segment)."
    echo
    echo "| file | bytes | packets | TCP streams | HTTP req/resp | retrans (frames) | lost_segment | holds | recorded with |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    for n in $PCAPS; do
      local f=$td/$n.pcap rt frames
      rt=$(tshark -n -r "$f" -Y 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission' -T fields -e frame.number 2>/dev/null | paste -sd, -)
      frames=$(count "$n" 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission')
      if [ "$frames" -gt 0 ] && [ "$frames" -le 12 ]; then frames="$frames (frames $rt)"; fi
      printf '| %s | %s | %s | %s | %s / %s | %s | %s | %s | `%s` |\n' "$n.pcap" \
        "$(stat -c %s "$f")" \
        "$(capinfos -c -M -T "$f" 2>/dev/null | tail -1 | cut -f2)" \
        "$(tshark -n -r "$f" -T fields -e tcp.stream 2>/dev/null | sort -un | grep -c .)" \
        "$(count "$n" http.request)" "$(count "$n" http.response)" \
        "$frames" "$(count "$n" tcp.analysis.lost_segment)" "$(describe "$n")" "$(how "$n")"
    done
    echo
    echo "mkcapture sizes: \`mkcapture X 1 50\` (1 s of wrk, 1 in 50 dropped) gave ~78 MB / ~65k packets on this"
    echo "machine, and wrk's -d takes whole seconds only, so record.sh keeps 1 s and raises the loss rate instead"
    echo "(MKC_WEB_ARGS=\"$MKC_WEB_ARGS\", MKC_MIX_ARGS=\"$MKC_MIX_ARGS\"), re-recording while a file is over $MKC_MAX_BYTES bytes"
    echo "(large.bin is 1 MB, so sizes vary). The shared tool itself is used unmodified."
    echo
    echo "Helper: \`scripts/testdata/httpfixture\` (Go, stdlib only; \`go build ./scripts/testdata/httpfixture\`)."
    echo "Packet counts in \`HTTP req/resp\` are frames tshark marks as request/response (a frame carrying several"
    echo "pipelined requests counts once)."
  } > "$td/README.md"
}

# ---------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { echo "record.sh: needs root (network namespaces, tcpdump)" >&2; exit 2; }
mkdir -p "$td"
case $what in
all)
  record_mkcapture mkcapture-small web "$MKC_WEB_ARGS"
  record_mkcapture mkcapture-small-mix small "$MKC_MIX_ARGS"
  record_http; expectations; verify;;
mkcapture)
  record_mkcapture mkcapture-small web "$MKC_WEB_ARGS"
  record_mkcapture mkcapture-small-mix small "$MKC_MIX_ARGS"
  expectations; verify;;
http) record_http; expectations; verify;;
expect) expectations; verify;;
pairing) record_pairing;;
*) echo "usage: $0 [all|mkcapture|http|expect|pairing]" >&2; exit 2;;
esac
ls -la "$td" >&2
