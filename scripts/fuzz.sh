#!/usr/bin/env bash
# fuzz.sh: runs every native Go fuzz target of the module for a while each
# (60 s by default), one after the other. Manual or scheduled, not part of
# every CI run (.ci/run runs the committed corpora as plain tests).
#
#   scripts/fuzz.sh                 # every target, 60 s each
#   FUZZTIME=10s scripts/fuzz.sh    # shorter
#   scripts/fuzz.sh FuzzLoad        # only targets whose name matches
#   PARALLEL=1 nice -n 15 scripts/fuzz.sh   # one fuzzing worker (a shared box)
#
# A failing input is written by `go test` to the package's
# testdata/fuzz/<Target>/ directory: fix the bug and commit that file, so
# the regression runs in every `go test` from then on. The script exits
# non-zero when any target failed and names them at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-60s}
parallel=()
if [[ -n ${PARALLEL:-} ]]; then
	[[ $PARALLEL =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: PARALLEL wants a positive number" >&2; exit 2; }
	parallel=(-parallel "$PARALLEL") # fuzzing workers (default: GOMAXPROCS)
fi
filter=${1:-.}
failed=()
n=0
while IFS= read -r line; do
	file=${line%%:*}
	target=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")
	[[ $target =~ $filter ]] || continue
	pkg=./$(dirname "$file")
	n=$((n + 1))
	echo "== $pkg $target ($fuzztime)"
	if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "${parallel[@]}" </dev/null; then
		failed+=("$pkg $target")
	fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | sed -E 's#^\./##; s#:[0-9]+:#:#' | sort)
echo "== $n targets, ${#failed[@]} failed"
for f in "${failed[@]}"; do
	echo "FAILED: $f"
done
[ ${#failed[@]} -eq 0 ]
