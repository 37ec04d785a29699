#!/usr/bin/env bash
# End-to-end ingest benchmark: pcapq side by side with the tools users would
# otherwise run, on the same capture, in the same session.
#
#   benchmarks/run.sh [CAPTURE]          # default: records benchmarks/data/bench.pcap
#   RUNS=5 benchmarks/run.sh             # runs per tool (median reported)
#   TOOLS="pcapq tshark" benchmarks/run.sh
#
# The capture is recorded with ../shared/tools/mkcapture (`mkcapture OUT 6 200`,
# ~600 MB; needs root) unless given. Results are appended to
# benchmarks/RESULTS.md with the machine and the commands.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
RUNS=${RUNS:-5}
TOOLS=${TOOLS:-"pcapq pcapq-packets tshark-conv tshark-http tcpdump tcpflow"}
MKSECS=${MKSECS:-6}
data=$root/benchmarks/data
out=$root/benchmarks/out
mkdir -p "$data" "$out"

for p in time tshark tcpdump tcpflow; do
  dpkg -s "$p" >/dev/null 2>&1 || need="${need:-} $p"
done
if [ -n "${need:-}" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; fi

cap=${1:-$data/bench.pcap}
if [ ! -f "$cap" ]; then
  mk=$root/../shared/tools/mkcapture
  [ -x "$mk" ] || { echo "no capture given and $mk is missing" >&2; exit 2; }
  echo "recording $cap with mkcapture ($MKSECS s, drop 1/200)..." >&2
  "$mk" "$cap" "$MKSECS" 200
fi
[ -x bin/pcapq ] || make build >/dev/null

size=$(stat -c %s "$cap")
pkts=$(capinfos -M -c "$cap" | awk -F': *' '/Number of packets/ {print $2}' | tr -d ' ')

# run NAME CMD...: RUNS timed runs; prints "median_wall_s max_rss_mb"
measure() {
  local name=$1; shift
  local walls=() rss=()
  for i in $(seq "$RUNS"); do
    rm -rf "$out/db.duckdb" "$out/db.duckdb.wal" "$out/tcpflow"; mkdir -p "$out/tcpflow"
    /usr/bin/time -f '%e %M' -o "$out/time.txt" "$@" >/dev/null 2>"$out/$name.stderr" || {
      echo "$name failed: $(tail -3 "$out/$name.stderr")" >&2; return 1; }
    read -r w m < "$out/time.txt"
    walls+=("$w"); rss+=("$m")
  done
  local med maxrss
  med=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  maxrss=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
  echo "$med $((maxrss / 1024)) ${walls[*]}"
}

declare -A CMD=(
  [pcapq]="bin/pcapq ingest -q $cap -o $out/db.duckdb"
  [pcapq-packets]="bin/pcapq ingest -q --no-flows $cap -o $out/db.duckdb"
  [tshark-conv]="tshark -n -r $cap -q -z conv,tcp"
  [tshark-http]="tshark -n -r $cap -Y http.request -T fields -e http.request.uri"
  [tcpdump]="tcpdump -nn -r $cap"
  [tcpflow]="tcpflow -r $cap -o $out/tcpflow"
)

declare -A RES
for t in $TOOLS; do
  echo "measuring $t: ${CMD[$t]}" >&2
  RES[$t]=$(measure "$t" ${CMD[$t]})
  echo "  $t: ${RES[$t]}" >&2
done

{
  echo
  echo "## $(date -u +%Y-%m-%d\ %H:%M) UTC — $(basename "$cap")"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(go version | cut -d' ' -f3); pcapq $(git rev-parse --short HEAD)."
  echo "Capture: $size bytes, $pkts packets (capinfos). Runs per tool: $RUNS (median wall time; peak RSS = max over runs)."
  echo "Reproduce: \`RUNS=$RUNS benchmarks/run.sh $cap\`"
  echo
  echo "| tool | command | median wall s | packets/s | MB/s | peak RSS MB | ratio vs tshark conv | all runs (s) |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  base=$(echo "${RES[tshark-conv]:-0 0}" | cut -d' ' -f1)
  for t in $TOOLS; do
    read -r w m rest <<<"${RES[$t]}"
    ratio=$(awk -v b="$base" -v w="$w" 'BEGIN { if (b > 0 && w > 0) printf "%.1fx", b / w; else print "-" }')
    awk -v t="$t" -v c="${CMD[$t]//$root\//}" -v w="$w" -v m="$m" -v p="$pkts" -v s="$size" -v r="$ratio" -v all="$rest" \
      'BEGIN { printf "| %s | `%s` | %.2f | %.0f | %.1f | %d | %s | %s |\n", t, c, w, p / w, s / 1e6 / w, m, r, all }'
  done
} | tee -a benchmarks/RESULTS.md
