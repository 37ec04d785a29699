#!/usr/bin/env bash
# Memory bounds and hostile TCP input, end to end: generates synthetic
# captures with benchmarks/gencap, ingests each with pcapq under
# /usr/bin/time, and prints a Markdown table (file size, packets, flows,
# warnings by kind, wall time, peak RSS, whether RSS stayed under the bound,
# and a scenario-specific correctness check done with SQL).
#
#   benchmarks/memory.sh                        # every scenario, full size
#   SCENARIOS="synflood wrap" benchmarks/memory.sh
#   N_SHORT=500000 OOO_BYTES=$((256<<20)) benchmarks/memory.sh
#   PCAPQ=/tmp/pcapq-mem benchmarks/memory.sh   # binary to measure (default bin/pcapq)
#   PCAPQ_ARGS="--max-flows 65536" benchmarks/memory.sh   # extra ingest flags
#   REGEN=1 benchmarks/memory.sh                # regenerate captures that exist
#
# Captures go to benchmarks/data/mem/ (gitignored); databases to
# benchmarks/out/mem/. The table is printed on standard output only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PCAPQ=${PCAPQ:-bin/pcapq}
BOUND_MB=${BOUND_MB:-400}
SCENARIOS=${SCENARIOS:-"shortflows ooo ooo-reverse synflood rststorm overlap wrap wscale"}
N_SHORT=${N_SHORT:-1000000}
N_SYN=${N_SYN:-1000000}
OOO_BYTES=${OOO_BYTES:-$((1 << 30))}
WRAP_BYTES=${WRAP_BYTES:-$((256 << 20))}
RST_CONNS=${RST_CONNS:-1000}
RSTS=${RSTS:-100000}
N_OVERLAP=${N_OVERLAP:-1000}
N_WSCALE=${N_WSCALE:-100}
SEED=${SEED:-1}

data=$root/benchmarks/data/mem
out=$root/benchmarks/out/mem
mkdir -p "$data" "$out"
[ -x "$PCAPQ" ] || { echo "$PCAPQ missing: make build, or set PCAPQ" >&2; exit 2; }
go build -o "$data/gencap" ./benchmarks/gencap

args() {
  case $1 in
    shortflows) echo "-n $N_SHORT" ;;
    ooo | ooo-reverse) echo "-bytes $OOO_BYTES" ;;
    synflood) echo "-n $N_SYN" ;;
    rststorm) echo "-n $RST_CONNS -rsts $RSTS" ;;
    overlap) echo "-n $N_OVERLAP" ;;
    wrap) echo "-bytes $WRAP_BYTES" ;;
    wscale) echo "-n $N_WSCALE" ;;
  esac
}

q() { "$PCAPQ" query -d "$1" -f csv "$2" | tail -n +2; }

# check SCENARIO DB: prints "ok: ..." or "FAIL: ..." from one SQL query.
check() {
  local s=$1 db=$2 sql
  case $s in
    shortflows) sql="SELECT CASE WHEN count(*) = $N_SHORT AND count(*) FILTER (WHERE conn_state = 'SF' AND history = 'ShADadFf' AND NOT evicted AND NOT capped) = $N_SHORT AND (SELECT count(*) FROM http) = $N_SHORT THEN 'ok' ELSE 'FAIL' END || ': ' || count(*) || ' flows, ' || count(*) FILTER (WHERE conn_state = 'SF' AND history = 'ShADadFf') || ' SF/ShADadFf, ' || count(*) FILTER (WHERE evicted) || ' evicted, ' || (SELECT count(*) FROM http) || ' http (want $N_SHORT)' FROM flows" ;;
    ooo | ooo-reverse) sql="SELECT CASE WHEN count(*) = 1 AND max(orig_bytes) = $OOO_BYTES AND (bool_and(capped) OR max(missed_bytes) = 0) AND (NOT bool_or(capped) OR (SELECT count(*) FROM warnings WHERE kind = 'reassembly_buffer_limit') > 0) THEN 'ok' ELSE 'FAIL' END || ': ' || count(*) || ' flow, orig_bytes ' || max(orig_bytes) || ' (want $OOO_BYTES), capped ' || bool_or(capped) || ', missed ' || max(missed_bytes) || ', history ' || max(history) FROM flows" ;;
    synflood) sql="SELECT CASE WHEN count(*) = $N_SYN AND count(*) FILTER (WHERE conn_state = 'S0' AND history = 'S') = $N_SYN THEN 'ok' ELSE 'FAIL' END || ': ' || count(*) || ' flows, ' || count(*) FILTER (WHERE conn_state = 'S0') || ' S0 (want $N_SYN), ' || count(*) FILTER (WHERE evicted) || ' evicted' FROM flows" ;;
    rststorm) sql="SELECT CASE WHEN count(*) FILTER (WHERE kind = 'rst') = $RSTS THEN 'ok' ELSE 'FAIL' END || ': ' || count(*) FILTER (WHERE kind = 'rst') || ' rst events (want $RSTS), ' || (SELECT count(*) FROM flows) || ' flows, states ' || (SELECT string_agg(conn_state || '=' || n, ' ' ORDER BY conn_state) FROM (SELECT conn_state, count(*) n FROM flows GROUP BY 1)) FROM tcp_events" ;;
    overlap) sql="SELECT CASE WHEN count(*) >= 1 THEN 'ok' ELSE 'FAIL' END || ': ' || count(*) || ' rexmit_inconsistency warnings for $N_OVERLAP conflicting connections (' || count(DISTINCT regexp_extract(detail, 'flow ([0-9]+)', 1)) || ' flows warned)' FROM warnings WHERE kind = 'rexmit_inconsistency'" ;;
    wrap) sql="SELECT CASE WHEN count(*) = 1 AND max(orig_bytes) = $WRAP_BYTES AND max(resp_bytes) = 40 AND max(missed_bytes) = 0 AND NOT bool_or(capped) AND max(conn_state) = 'SF' THEN 'ok' ELSE 'FAIL' END || ': orig_bytes ' || max(orig_bytes) || ' (want $WRAP_BYTES), resp_bytes ' || max(resp_bytes) || ', missed ' || max(missed_bytes) || ', ' || max(conn_state) || ', http ' || (SELECT count(*) FROM http) FROM flows" ;;
    wscale) sql="SELECT CASE WHEN count(*) = $N_WSCALE AND count(*) FILTER (WHERE conn_state = 'SF' AND orig_bytes = 3000) = $N_WSCALE AND (SELECT count(*) FROM tcp_events WHERE kind = 'zero_window') > 0 THEN 'ok' ELSE 'FAIL' END || ': ' || count(*) FILTER (WHERE conn_state = 'SF' AND orig_bytes = 3000) || '/' || count(*) || ' SF with 3000 bytes, events ' || (SELECT string_agg(kind || '=' || n, ' ' ORDER BY kind) FROM (SELECT kind, count(*) n FROM tcp_events GROUP BY 1)) FROM flows" ;;
  esac
  q "$db" "$sql"
}

echo "| scenario | file MB | packets | flows (evicted/capped) | warnings by kind | wall s | peak RSS MB | < ${BOUND_MB} MB | check |"
echo "|---|---|---|---|---|---|---|---|---|"
for s in $SCENARIOS; do
  cap=$data/$s.pcap
  if [ ! -f "$cap" ] || [ -n "${REGEN:-}" ]; then
    # shellcheck disable=SC2046
    "$data/gencap" -scenario "$s" -seed "$SEED" $(args "$s") -o "$cap" 2>"$data/$s.gen.txt"
  fi
  db=$out/$s.duckdb
  rm -f "$db" "$db.wal"
  if ! /usr/bin/time -f '%e %M' -o "$out/$s.time" "$PCAPQ" ingest -q ${PCAPQ_ARGS:-} "$cap" -o "$db" 2>"$out/$s.err"; then
    echo "| $s | | | | | | | | FAIL: ingest exited non-zero: $(tail -c 300 "$out/$s.err" | tr '\n|' ' /') |"
    continue
  fi
  read -r wall rss <"$out/$s.time"
  rss_mb=$((rss / 1024))
  ok=yes
  [ "$rss_mb" -lt "$BOUND_MB" ] || ok=NO
  size_mb=$(awk -v b="$(stat -c %s "$cap")" 'BEGIN { printf "%.0f", b / 1048576 }')
  pkts=$(q "$db" "SELECT count(*) FROM packets")
  flows=$(q "$db" "SELECT count(*) || ' (' || count(*) FILTER (WHERE evicted) || '/' || count(*) FILTER (WHERE capped) || ')' FROM flows")
  warns=$(q "$db" "SELECT coalesce(string_agg(kind || '=' || n, ' ' ORDER BY kind), 'none') FROM (SELECT kind, count(*) n FROM warnings GROUP BY 1)")
  chk=$(check "$s" "$db" | tr -d "\"" | tr "|" "/")
  echo "| $s | $size_mb | $pkts | $flows | $warns | $wall | $rss_mb | $ok | $chk |"
done
