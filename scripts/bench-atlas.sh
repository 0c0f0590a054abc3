#!/bin/sh
# bench-atlas.sh: wall time of the whole atlas (every kind × variant × class ×
# generation × stack) on this machine, with the load average beside it.
# Usage: scripts/bench-atlas.sh [extra atlas flags]
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/wufault" ./cmd/wufault
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, max RSS %M KiB' \
	"$dir/wufault" --state-dir "$dir/state" atlas --format json --out "$dir/atlas.json" "$@"
grep -o "\"wine\": true" "$dir/atlas.json" >/dev/null && "$dir/wufault" atlas merge "$dir/atlas.json" --format table | tail -1
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
