#!/usr/bin/env bash
# soak.sh: a long run of `wufault serve` under load, loopback only, bounded.
# It builds wufault and the driver (scripts/soak), which starts the world
# with every port on 127.0.0.1:0, its own plain and HTTPS origins, and
# CLIENTS concurrent clients (4 in 10 plain HTTP through the proxy, 3 HTTPS
# through CONNECT, 3 DNS over UDP) for DURATION while the active scenario is
# swapped through the control API every SWAP_EVERY. It fails (exit 1) on any
# unexpected answer or error, on goroutines or descriptors of the world not
# back near their baseline within 60 s of the load's end, on RSS more than
# 64 MiB above the baseline after the load or past 1 GiB under it, and on a
# world that does not exit 0 on SIGTERM. It prints a markdown table of its
# figures for docs/robustness.md.
#
#   nice -n 15 scripts/soak.sh                       # 1,000 clients, 10 minutes
#   DURATION=1m CLIENTS=200 scripts/soak.sh          # shorter
#   scripts/soak.sh -rss-max 512 -leak-margin 20     # driver flags (go run ./scripts/soak -h)
#
# Manual or scheduled, not part of every CI run. Needs go and an address
# 127.0.0.2 on loopback (Linux has the whole 127/8). The world and the
# driver each hold about two descriptors per client: the driver raises its
# soft limit to the hard one; a hard limit under 4,096 is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || { echo "soak: go not found" >&2; exit 2; }
DURATION=${DURATION:-10m}
CLIENTS=${CLIENTS:-1000}
SWAP_EVERY=${SWAP_EVERY:-500ms}
if (($(ulimit -Hn) < 4096)); then
	echo "soak: the hard descriptor limit is $(ulimit -Hn); want at least 4096" >&2
	exit 2
fi
ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/wufault" ./cmd/wufault
go build -o "$tmp/soak" ./scripts/soak
"$tmp/soak" -wufault "$tmp/wufault" -duration "$DURATION" -clients "$CLIENTS" -swap-every "$SWAP_EVERY" "$@"
