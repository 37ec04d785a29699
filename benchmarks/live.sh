#!/usr/bin/env bash
# live.sh: measurements of `pcapq capture` on a veth pair between two
# network namespaces, side by side with tcpdump on the same interface. The
# namespaces have addresses of their own (10.213.9.1 and .2, seen by
# nothing else); everything is removed at exit. Needs root, ip, iperf3,
# tcpdump, and for rss nginx and python3.
#
# Usage: benchmarks/live.sh rate PAYLOAD [SECONDS]
#          Highest rate with zero drops, pcapq capture (all tables on) and
#          tcpdump -w /dev/null, each alone: UDP datagrams of PAYLOAD bytes
#          (iperf3 -u -l PAYLOAD; 18 gives 60-byte frames, 1472 gives
#          1514-byte frames) for SECONDS (default 8) per step; the rate
#          doubles from 10k packets/s until one drops, then is bisected.
#          GEN=tcpreplay sends the same frames with tcpreplay (--pps, from a
#          file of 10,000 UDP frames written here) instead of iperf3: far
#          less CPU a packet, so the generator outpaces a capture that
#          iperf3 cannot (iperf3 and the capture share the 2 cores).
#        benchmarks/live.sh rss SECONDS
#          pcapq capture's RSS every 10 s under load through the veth:
#          HTTP/1.1 requests to nginx (HTTP_RATE a second, default 300,
#          100 per connection) and an iperf3 TCP stream (BULK, default 50M
#          bit/s).
#        benchmarks/live.sh fresh SECONDS
#          Age of the newest packet a concurrent `pcapq query` process sees
#          (DuckDB's now() at the query's start minus max(ts)), every 0.2 s,
#          while ping sends 100 packets/s; median, p99 and max.
# Env: PCAPQ (binary, default bin/pcapq), OUT (directory for the files,
#      default a temporary one), TCPDUMP_OPTS (extra tcpdump options, e.g.
#      -B 32768 for pcapq's buffer size), TOOLS (default "pcapq tcpdump"),
#      CAPTURE_ARGS (extra pcapq capture options), CAPTURE_CPUS and
#      GEN_CPUS (taskset CPU lists for the capturing tool and for the
#      traffic: on a 2-core machine an unpinned generator competes with
#      the capture for CPU, so the offered rate, not the capture, sets the
#      limit; CAPTURE_CPUS=0 GEN_CPUS=1 gives each its own core).
set -euo pipefail

mode=${1:?usage: live.sh rate PAYLOAD [SECONDS] | rss SECONDS | fresh SECONDS}
pcapq=$(realpath "${PCAPQ:-bin/pcapq}")
p=pqb$$
srv=${p}s cli=${p}c sif=${p}a cif=${p}b
s4=10.213.9.1 c4=10.213.9.2
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
pids=()
cap_pin= gen_pin=
[ -n "${CAPTURE_CPUS:-}" ] && cap_pin="taskset -c $CAPTURE_CPUS"
[ -n "${GEN_CPUS:-}" ] && gen_pin="taskset -c $GEN_CPUS"

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.3
  ip netns del "$srv" 2>/dev/null
  ip netns del "$cli" 2>/dev/null
}
trap cleanup EXIT

ip netns add "$srv"; ip netns add "$cli"
ip link add "$sif" type veth peer name "$cif"
ip link set "$sif" netns "$srv"; ip link set "$cif" netns "$cli"
ip -n "$srv" addr add $s4/24 dev "$sif"; ip -n "$cli" addr add $c4/24 dev "$cif"
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip netns exec "$srv" sysctl -qw net.ipv6.conf.$sif.disable_ipv6=1
ip netns exec "$cli" sysctl -qw net.ipv6.conf.$cif.disable_ipv6=1
ip -n "$srv" link set "$sif" up; ip -n "$cli" link set "$cif" up
ip netns exec "$srv" ethtool -K "$sif" tso off gso off gro off tx off >/dev/null 2>&1 || true
ip netns exec "$cli" ethtool -K "$cif" tso off gso off gro off tx off >/dev/null 2>&1 || true

# start_capture TOOL FILE: starts pcapq or tcpdump on the client's veth and
# waits until it captures; sets cap_pid.
start_capture() {
  case $1 in
  pcapq)
    rm -f "$2" "$2.wal"
    ip netns exec "$cli" $cap_pin "$pcapq" capture -q -i "$cif" -o "$2" ${CAPTURE_ARGS:-} 2>"$2.err" &
    cap_pid=$!
    until [ -S "$2.pcapq.sock" ]; do sleep 0.05; done
    until "$pcapq" query -d "$2" "SELECT 1" >/dev/null 2>&1; do sleep 0.05; done ;;
  tcpdump)
    : >"$2.err"
    ip netns exec "$cli" $cap_pin tcpdump -i "$cif" ${TCPDUMP_OPTS:-} -w /dev/null 2>"$2.err" &
    cap_pid=$!
    until grep -q "listening on" "$2.err"; do sleep 0.05; done ;;
  esac
  pids+=("$cap_pid")
}

# cpu_ms: CPU time (user + system) the capture has used so far, in ms.
cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' /proc/$cap_pid/stat
}

# stop_capture TOOL FILE: stops it and prints "captured dropped".
stop_capture() {
  kill -INT "$cap_pid"
  # Callers run this in a process substitution, a subshell of which the
  # capture is no child, so wait cannot wait for it: poll until it has
  # exited (gone, or a zombie its parent has not reaped yet).
  while [ -e "/proc/$cap_pid" ] && [ "$(awk '{print $3}' "/proc/$cap_pid/stat" 2>/dev/null)" != Z ]; do sleep 0.05; done
  case $1 in
  pcapq) "$pcapq" query -d "$2" -f csv "SELECT packets, ps_dropped + ps_ifdropped FROM captures" | tail -1 | tr , ' ' ;;
  tcpdump) echo "$(awk '/packets captured/ {print $1}' "$2.err") $(awk '/dropped by kernel/ {d+=$1} /dropped by interface/ {d+=$1} END {print d+0}' "$2.err")" ;;
  esac
}

case $mode in
rate)
  len=${2:?payload bytes}; secs=${3:-8}
  ip netns exec "$srv" $gen_pin iperf3 -s -B $s4 -D --logfile "$out/iperf3-server.log"
  sleep 0.5
  # run TOOL PPS: one step; prints "ok|drop target sent captured dropped
  # cpu_ms", cpu_ms being the capture's CPU time while iperf3 sent.
  if [ "${GEN:-iperf3}" = tcpreplay ]; then
    # 10,000 UDP frames of len payload bytes from the client to the
    # server's veth (its MAC), as iperf3 -u would send them.
    smac=$(ip -n "$srv" -br link show "$sif" | awk '{print $3}')
    cmac=$(ip -n "$cli" -br link show "$cif" | awk '{print $3}')
    python3 - "$out/udp-$len.pcap" "$len" "$cmac" "$smac" "$c4" "$s4" <<'PY'
import struct, sys
out, n, src, dst, sip, dip = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
ip4 = lambda a: bytes(int(x) for x in a.split("."))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(10000):
        payload = struct.pack("!I", i) + bytes(max(0, n - 4))
        payload = payload[:n]
        udp = struct.pack("!HHHH", 40000 + i % 100, 5201, 8 + n, 0) + payload
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, ip4(sip), ip4(dip))
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        fr = mac(dst) + mac(src) + b"\x08\x00" + iph + udp
        f.write(struct.pack("<IIII", 0, i, len(fr), len(fr)) + fr)
PY
  fi
  run() {
    local f="$out/$1-$len-$2"
    start_capture "$1" "$f"
    local bps=$(( $2 * len * 8 ))
    local sent cpu0 cpu1
    cpu0=$(cpu_ms)
    if [ "${GEN:-iperf3}" = tcpreplay ]; then
      # Whole loops of the 10,000-frame file: about secs seconds.
      local loops=$(( ($2 * secs + 9999) / 10000 ))
      local t0=$(date +%s.%N)
      sent=$(ip netns exec "$cli" $gen_pin tcpreplay -q -i "$cif" --pps="$2" --loop="$loops" --preload-pcap "$out/udp-$len.pcap" 2>&1 |
        awk '/Actual:/ {print $2}')
      # Scaled to secs, so that sent / secs below is the rate achieved
      # (tcpreplay takes longer than secs when it cannot keep the rate).
      sent=$(awk -v n="$sent" -v t0="$t0" -v t1="$(date +%s.%N)" -v s="$secs" 'BEGIN {print int(n * s / (t1 - t0) + 0.5)}')
    else
    sent=$(ip netns exec "$cli" $gen_pin iperf3 -c $s4 -u -l "$len" -b "$bps" -t "$secs" --json 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum"]["packets"])')
    fi
    sleep 1
    cpu1=$(cpu_ms)
    read -r captured dropped < <(stop_capture "$1" "$f")
    local verdict=ok
    [ "$dropped" -gt 0 ] && verdict=drop
    echo "$verdict $2 $(( sent / secs )) $captured $dropped $(( cpu1 - cpu0 ))"
  }
  echo "tool payload target_pps sent_pps captured dropped cpu_ms verdict"
  for tool in ${TOOLS:-pcapq tcpdump}; do
    # lo: highest target without drops (best: the rate iperf3 reached
    # there); hi: lowest target with drops.
    lo=0 hi=0 best=0 rate=10000
    while :; do
      read -r v t s c d cpu < <(run $tool $rate)
      echo "$tool $len $t $s $c $d $cpu $v"
      if [ "$v" = drop ]; then hi=$rate; break; fi
      lo=$rate best=$s
      # The generator is the limit: no higher rate can be offered.
      if [ "$s" -lt $(( rate * 9 / 10 )) ]; then break; fi
      rate=$(( rate * 2 ))
    done
    if [ $hi -gt 0 ]; then
      for _ in 1 2 3; do
        mid=$(( (lo + hi) / 2 ))
        read -r v t s c d cpu < <(run $tool $mid)
        echo "$tool $len $t $s $c $d $cpu $v"
        if [ "$v" = ok ]; then lo=$mid best=$s; else hi=$mid; fi
      done
    fi
    echo "RESULT $tool payload=$len zero_drops_at_pps=$best (target $lo) first_drop_target_pps=$hi (0: none, the generator was the limit)"
  done ;;
rss)
  secs=${2:?seconds}
  www=$out/www; mkdir -p "$www"
  head -c 2000 /dev/zero | tr '\0' a >"$www/small.html"
  cat >"$out/nginx.conf" <<EOF
worker_processes 1;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen $s4:80; root $www; keepalive_requests 100; }
}
EOF
  ip netns exec "$srv" nginx -c "$out/nginx.conf"
  sleep 0.5
  pids+=("$(cat "$out/nginx.pid")")
  ip netns exec "$srv" iperf3 -s -B $s4 -D --logfile "$out/iperf3-server.log"
  sleep 0.5
  db=$out/rss.duckdb
  start_capture pcapq "$db"
  # Load: HTTP/1.1 keep-alive requests at HTTP_RATE a second (nginx ends
  # each connection after 100, so connections keep coming and going) and a
  # TCP bulk stream of BULK bit/s in MTU-sized segments.
  ip netns exec "$cli" python3 - "$s4" "$secs" "${HTTP_RATE:-300}" <<'PY' &
import http.client, sys, time
host, secs, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
end = time.time() + secs
c = None
while time.time() < end:
    t = time.time()
    try:
        if c is None:
            c = http.client.HTTPConnection(host, 80, timeout=5)
        c.request("GET", "/small.html")
        r = c.getresponse()
        r.read()
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = None
    except Exception:
        c = None
    time.sleep(max(0, 1 / rate - (time.time() - t)))
PY
  pids+=($!)
  ip netns exec "$cli" iperf3 -c $s4 -b "${BULK:-50M}" -t "$secs" >"$out/iperf3.txt" 2>&1 &
  pids+=($!)
  echo "seconds rss_mb cpu_s packets flows http duckdb_mb db_mb"
  start=$SECONDS
  while [ $((SECONDS - start)) -le "$secs" ]; do
    rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$cap_pid/status)
    row=$("$pcapq" query -d "$db" -f csv "SELECT (SELECT packets FROM captures), (SELECT count(*) FROM flows) + (SELECT count(*) FROM flows_open), (SELECT count(*) FROM http), (SELECT sum(memory_usage_bytes) // 1000000 FROM duckdb_memory())" | tail -1 | tr , ' ')
    size=$(( ($(stat -c %s "$db") + $(stat -c %s "$db.wal" 2>/dev/null || echo 0)) / 1000000 ))
    echo "$((SECONDS - start)) $rss $(( $(cpu_ms) / 1000 )) $row $size"
    sleep 10
  done
  wait "${pids[-1]}" || true
  peak=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$cap_pid/status)
  read -r captured dropped < <(stop_capture pcapq "$db")
  echo "RESULT captured=$captured dropped=$dropped peak_rss_mb=$peak"
  tail -4 "$out/iperf3.txt" ;;
fresh)
  secs=${2:?seconds}
  db=$out/fresh.duckdb
  start_capture pcapq "$db"
  ip netns exec "$cli" ping -q -i 0.01 $s4 >/dev/null &
  pids+=($!)
  sleep 2
  end=$((SECONDS + secs))
  : >"$out/ages.txt"
  while [ $SECONDS -lt $end ]; do
    "$pcapq" query -d "$db" -f csv "SELECT (epoch_ns(now()::TIMESTAMP_NS) - epoch_ns(max(ts))) / 1e6 FROM packets" | tail -1 >>"$out/ages.txt"
    sleep 0.2
  done
  stop_capture pcapq "$db" >/dev/null
  sort -n "$out/ages.txt" | awk '{a[NR]=$1} END {i=int(NR*0.99)+1; if (i>NR) i=NR; printf "RESULT samples=%d median_ms=%.0f p99_ms=%.0f max_ms=%.0f\n", NR, a[int(NR/2)+1], a[i], a[NR]}' ;;
*)
  echo "unknown mode $mode" >&2; exit 2 ;;
esac
