#!/usr/bin/env bash
# bench-proxy.sh: throughput, request rate, timing precision and idle-tunnel
# memory of wufault's forward proxy, with mitmproxy and tinyproxy measured
# in the same run.
#
#   scripts/bench-proxy.sh               # prints a markdown section for docs/benchmarks.md
#   BYTES=268435456 TUNNELS=2000 scripts/bench-proxy.sh   # a quicker run
#
# Needs go and python3; mitmproxy and tinyproxy are measured when installed
# (Debian: apt-get install -y mitmproxy tinyproxy) and reported as missing
# otherwise. Every byte goes to 127.0.0.1. Every load is bounded: COUNT
# downloads of BYTES per path, 2 x RPS_ROUNDS seconds of small requests, ROUNDS rounds of
# CONNS concurrent requests, one opening of TUNNELS tunnels; every process
# started here is stopped on exit.
#
# Processes: wufault is the real CLI (`wufault serve`, proxy and control API
# only); the clients and the origins (HTTP and HTTPS, content from memory)
# run in the simulate package's benchmark binary; the idle tunnels end at a
# python accept-and-hold listener, so no process needs more than one socket
# per tunnel except the proxy (two).
set -euo pipefail

BYTES=${BYTES:-1073741824} # download size (1 GiB)
COUNT=${COUNT:-3}          # downloads per path
RPS_ROUNDS=${RPS_ROUNDS:-10} # one-second rounds of small requests per scenario
ROUNDS=${ROUNDS:-5}        # rounds of the precision runs
CONNS=${CONNS:-200}        # concurrent connections of the precision runs
TUNNELS=${TUNNELS:-10000}  # idle CONNECT tunnels

for tool in go python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bench-proxy: $tool not found" >&2; exit 2; }
done
if ((RPS_ROUNDS < 1 || RPS_ROUNDS > 60 || COUNT < 1 || COUNT > 20 || ROUNDS < 1 || ROUNDS > 50 || CONNS < 1 || CONNS > 2000 || TUNNELS < 1 || TUNNELS > 50000)); then
	echo "bench-proxy: COUNT 1..20, RPS_ROUNDS 1..60, ROUNDS 1..50, CONNS 1..2000, TUNNELS 1..50000" >&2
	exit 2
fi

# Descriptors: the proxy holds two sockets per tunnel. Raise the soft limit
# to the hard one; a hard limit below what TUNNELS needs lowers TUNNELS (and
# the report says so).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
tunnel_note=""
if [[ $fd_limit != unlimited ]] && ((2 * TUNNELS + 100 > fd_limit)); then
	wanted=$TUNNELS
	TUNNELS=$(((fd_limit - 100) / 2))
	tunnel_note="(asked for $wanted; the hard descriptor limit here is $fd_limit and the proxy needs two per tunnel, so $TUNNELS)"
fi

# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

(cd "$repo" && go build -o "$tmp/wufault" ./cmd/wufault && go test -c -o "$tmp/simulate.test" ./simulate)

# wufault: proxy and control API on free loopback ports, nothing else.
start_wufault() {
	rm -f "$tmp/ready.json"
	"$tmp/wufault" serve --proxy 127.0.0.1:0 --control 127.0.0.1:0 --dns "" --upstream-http "" --upstream-https "" \
		--state-dir "$tmp/state" --ready-file "$tmp/ready.json" --log-level error >"$tmp/wufault.log" 2>&1 &
	wufault_pid=$!
	pids+=("$wufault_pid")
	for _ in $(seq 100); do [[ -s $tmp/ready.json ]] && break; sleep 0.1; done
	if [[ ! -s $tmp/ready.json ]]; then
		echo "bench-proxy: wufault did not start" >&2
		cat "$tmp/wufault.log" >&2
		exit 1
	fi
	read -r wufault_proxy wufault_control < <(python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); print(a["proxy"], a["control"])' "$tmp/ready.json")
}
start_wufault
proxies="wufault=http://$wufault_proxy"
cpu_pids="wufault=$wufault_pid"
others=""

# mitmproxy, regular mode, no addons. stream_large_bodies makes it forward
# bodies over 1 MiB as they come instead of holding them whole in memory;
# HTTPS through it is decrypted and re-encrypted (what regular mode does).
if command -v mitmdump >/dev/null 2>&1; then
	port=$(free_port)
	mitmdump --mode regular --listen-host 127.0.0.1 --listen-port "$port" --ssl-insecure \
		--set stream_large_bodies=1m --set confdir="$tmp/mitmproxy" -q >"$tmp/mitmproxy.log" 2>&1 &
	pids+=("$!")
	if wait_port "$port"; then
		proxies+=",mitmproxy=http://127.0.0.1:$port"
		cpu_pids+=",mitmproxy=$!"
		others+="$(mitmdump --version 2>/dev/null | awk '/Mitmproxy/ {print "mitmproxy " $2}'), "
	else
		echo "bench-proxy: mitmproxy did not start" >&2
	fi
else
	others+="mitmproxy not installed, "
fi

# tinyproxy, every CONNECT port allowed (no ConnectPort line), no logging.
if command -v tinyproxy >/dev/null 2>&1; then
	port=$(free_port)
	cat >"$tmp/tinyproxy.conf" <<EOF
Port $port
Listen 127.0.0.1
Timeout 600
MaxClients 4000
Allow 127.0.0.1
LogLevel Critical
EOF
	tinyproxy -d -c "$tmp/tinyproxy.conf" >"$tmp/tinyproxy.log" 2>&1 &
	pids+=("$!")
	if wait_port "$port"; then
		proxies+=",tinyproxy=http://127.0.0.1:$port"
		cpu_pids+=",tinyproxy=$!"
		others+="$(tinyproxy -v 2>&1 | head -1), "
	else
		echo "bench-proxy: tinyproxy did not start" >&2
	fi
else
	others+="tinyproxy not installed, "
fi

# The end of the idle tunnels: accepts and holds, never reads or writes.
python3 - "$tmp/hold.port" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4096)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept()
    held.append(c)
EOF
pids+=("$!")
for _ in $(seq 50); do [[ -s $tmp/hold.port ]] && break; sleep 0.1; done
hold_port=$(cat "$tmp/hold.port")

bench() { # ENV... -- BENCH-REGEXP BENCHTIME
	"$tmp/simulate.test" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.timeout 60m 2>&1 |
		grep -E '^Benchmark|FAIL|panic|Error' || true
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
WUFAULT_BENCH_PROXIES=$proxies WUFAULT_BENCH_PIDS=$cpu_pids WUFAULT_BENCH_BYTES=$BYTES \
	bench '^BenchmarkDownload$' "${COUNT}x" >"$tmp/download.txt"
WUFAULT_BENCH_PROXIES="wufault=http://$wufault_proxy" WUFAULT_BENCH_CONTROL="http://$wufault_control" WUFAULT_BENCH_RPS_ROUNDS=$RPS_ROUNDS \
	bench '^BenchmarkSmallRequests$' 1x >"$tmp/rps.txt"
WUFAULT_BENCH_PROXIES="wufault=http://$wufault_proxy" WUFAULT_BENCH_CONTROL="http://$wufault_control" WUFAULT_BENCH_CONNS=$CONNS \
	bench '^Benchmark(Stall|Latency)Precision$' "${ROUNDS}x" >"$tmp/precision.txt"
# The idle tunnels go to a fresh wufault, so its memory is theirs, not
# what the downloads left in the heap.
kill "$wufault_pid"
wait "$wufault_pid" 2>/dev/null || true
start_wufault
sleep 1
rss_rest=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$wufault_pid/status")
WUFAULT_BENCH_PROXIES="wufault=http://$wufault_proxy" WUFAULT_BENCH_PROXY_PID=$wufault_pid \
	WUFAULT_BENCH_IDLE_TARGET="127.0.0.1:$hold_port" WUFAULT_BENCH_TUNNELS=$TUNNELS \
	bench '^BenchmarkIdleTunnels$' 1x >"$tmp/idle.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# metric FILE NAME UNIT -> the value before UNIT on NAME's line
metric() {
	awk -v n="$2" -v u="$3" '$1 ~ "^Benchmark" n "(-[0-9]+)?$" {for (i = 2; i <= NF; i++) if ($i == u) print $(i-1)}' "$1"
}

echo "## Proxy"
echo
# The machine itself (cores, CPU, kernel) is docs/benchmarks.md's Machine section.
echo "\`scripts/bench-proxy.sh\` ($(date -u +%Y-%m-%d); $(go version | awk '{print $3}'), ${others%, }). Load average"
echo "$load_before before, $load_after after: other jobs share the machine, so wall-clock numbers"
echo "move with them; CPU time per GiB moves much less."
echo
echo "### Throughput: $((BYTES >> 20)) MiB downloads, $COUNT per path"
echo
echo "Client and origins in one process, each proxy in its own. HTTPS paths are TLS end to end (through"
echo "wufault and tinyproxy an opaque CONNECT tunnel; mitmproxy decrypts and re-encrypts). The ratio compares"
echo "with the direct download of the same scheme."
echo
echo "| path | MB/s | ratio to direct | proxy CPU (ms/GiB) | client+origin CPU (ms/GiB) |"
echo "|---|---:|---:|---:|---:|"
direct_http=$(metric "$tmp/download.txt" "Download/direct/http" "MB/s")
direct_https=$(metric "$tmp/download.txt" "Download/direct/https" "MB/s")
row() { # NAME DIRECT
	local mbs cpu self
	mbs=$(metric "$tmp/download.txt" "Download/$1" "MB/s")
	cpu=$(metric "$tmp/download.txt" "Download/$1" "proxy-cpu-ms/GiB")
	self=$(metric "$tmp/download.txt" "Download/$1" "self-cpu-ms/GiB")
	[[ -n $mbs ]] || { echo "| $1 | failed | | | |"; return; }
	awk -v n="$1" -v m="$mbs" -v d="$2" -v c="${cpu:--}" -v s="$self" \
		'BEGIN {printf "| %s | %.0f | %.2f | %s | %s |\n", n, m, (d > 0 ? m / d : 0), c, s}'
}
row direct/http "$direct_http"
row direct/https "$direct_https"
IFS=, read -ra plist <<<"$proxies"
for p in "${plist[@]}"; do
	name=${p%%=*}
	row "$name/plain-http" "$direct_http"
	row "$name/tunnel-https" "$direct_https"
done
echo
echo "### Small plain-HTTP requests through wufault (keep-alive, 16 client goroutines)"
echo
echo "The two scenarios alternate in one-second rounds ($RPS_ROUNDS each, ABBA order) after a warm-up, so load drifts hit both."
echo
no=$(metric "$tmp/rps.txt" "SmallRequests" "no-faults-req/s")
idle=$(metric "$tmp/rps.txt" "SmallRequests" "idle-faults-req/s")
cost=$(metric "$tmp/rps.txt" "SmallRequests" "idle-cost-%")
echo "| active scenario | requests/s |"
echo "|---|---:|"
echo "| none | ${no:-failed} |"
echo "| 20 rules that match nothing (tcp.reset, tcp.latency, http.status, proxy.deny_connect on other hosts) | ${idle:-failed} |"
echo
echo "Cost of the idle rules: ${cost:-?}%"
echo
echo "### Timing precision under $CONNS concurrent connections ($ROUNDS rounds)"
echo
echo "Every connection is opened and warmed first; a round sends one request on each at once. Error = time"
echo "to the response headers minus the nominal delay; the unfaulted median of the same round size is the"
echo "machine's own share."
echo
echo "| fault | unfaulted p50 (ms) | error p50 (ms) | error p99 (ms) | error min (ms) |"
echo "|---|---:|---:|---:|---:|"
for f in Stall Latency; do
	label="tcp.stall 500ms at headers"
	[[ $f == Latency ]] && label="tcp.latency 100ms"
	echo "| $label | $(metric "$tmp/precision.txt" "${f}Precision" "baseline-p50-ms") | $(metric "$tmp/precision.txt" "${f}Precision" "p50-err-ms") | $(metric "$tmp/precision.txt" "${f}Precision" "p99-err-ms") | $(metric "$tmp/precision.txt" "${f}Precision" "min-err-ms") |"
done
echo
echo "### Idle CONNECT tunnels"
echo
echo "$(metric "$tmp/idle.txt" IdleTunnels tunnels) tunnels $tunnel_note opened through a fresh \`wufault serve\` to a"
echo "listener that holds them, then left idle: resident memory $(metric "$tmp/idle.txt" IdleTunnels rss-MB) MB"
echo "($rss_rest MB at rest before; $(metric "$tmp/idle.txt" IdleTunnels KB/tunnel) KB per tunnel)."
echo
echo "<details><summary>raw benchmark lines</summary>"
echo
echo '```'
cat "$tmp/download.txt" "$tmp/rps.txt" "$tmp/precision.txt" "$tmp/idle.txt"
echo '```'
echo
echo "</details>"
