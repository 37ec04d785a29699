#!/usr/bin/env bash
# Runs every fuzz test of the module (found by name, so none is left out)
# for FUZZTIME each. FUZZPAR fuzzers run at once (default 1), each with
# FUZZWORKERS workers (default: go's, one per CPU). New crashers are written
# by go test into the package's testdata/fuzz/<Fuzzer>/ and the script fails.
#   FUZZTIME=10m FUZZPAR=2 FUZZWORKERS=1 scripts/fuzz.sh
#   scripts/fuzz.sh FuzzHTTP FuzzDecode      # only these
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
FUZZPAR=${FUZZPAR:-1}
TAGS=${TAGS:-duckdb_arrow}
only=" $* "
jobs=()
while IFS=: read -r file _ line; do
  name=${line#func }; name=${name%%(*}
  if [ -n "${*:-}" ] && [[ "$only" != *" $name "* ]]; then continue; fi
  jobs+=("$(dirname "$file") $name")
done < <(grep -rn --include='*_test.go' '^func Fuzz' . | sort)
[ ${#jobs[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz test matched: $*" >&2; exit 2; }
mkdir -p bin/fuzzlogs
run_one() {
  local pkg=$1 name=$2 log
  log=bin/fuzzlogs/$(echo "${pkg#./}" | tr / _)-$2.log
  local par=()
  [ -n "${FUZZWORKERS:-}" ] && par=(-parallel "$FUZZWORKERS")
  if go test -tags="$TAGS" -timeout 0 -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "${par[@]}" "$pkg" >"$log" 2>&1; then
    echo "ok   $name ($pkg, $FUZZTIME): $(grep -Eo 'execs: [0-9]+' "$log" | tail -1)"
  else
    echo "FAIL $name ($pkg): see $log"; tail -20 "$log"; return 1
  fi
}
export -f run_one; export FUZZTIME TAGS FUZZWORKERS
printf '%s\n' "${jobs[@]}" | xargs -P "$FUZZPAR" -L 1 bash -c 'run_one "$0" "$1"'
