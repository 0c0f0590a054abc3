#!/usr/bin/env bash
# bench-dns.sh: queries per second and latency of wufault's DNS server on
# loopback UDP, measured with dnsperf beside dnsmasq serving an equivalent
# static zone in the same run.
#
#   scripts/bench-dns.sh            # prints a markdown section for docs/benchmarks.md
#   DURATION=5 scripts/bench-dns.sh
#
# Needs go, dnsperf, dnsmasq and dig (Debian: apt-get install -y dnsperf
# dnsmasq dnsutils). Every byte goes to 127.0.0.1; every load is bounded in
# time (DURATION seconds at full speed, LAT_DURATION seconds at LAT_QPS for
# the latency percentiles), and both servers are stopped on exit.
#
# Query sets, identical for both servers:
#   lab  A queries for four Windows Update names of the lab zone
#        (wufault: the lab zone answering the emulator's 127.0.0.1;
#        dnsmasq: --address=/update.microsoft.com/127.0.0.1 and friends)
#   nx   A queries for nx.update.microsoft.com (wufault: a dns.nxdomain
#        fault rule; dnsmasq: --address=/nx.update.microsoft.com/)
set -euo pipefail

DURATION=${DURATION:-10}         # seconds of full-speed load per run
ROUNDS=${ROUNDS:-3}              # throughput runs per server and query set (median reported)
CLIENTS=${CLIENTS:-4}            # dnsperf -c
OUTSTANDING=${OUTSTANDING:-100}  # dnsperf -q
LAT_QPS=${LAT_QPS:-5000}         # fixed rate for the latency runs
LAT_DURATION=${LAT_DURATION:-5}  # seconds per latency run

for tool in go dnsperf dnsmasq dig; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench-dns: $tool not found (Debian: apt-get install -y dnsperf dnsmasq dnsutils)" >&2
		exit 2
	fi
done
if ((DURATION < 1 || DURATION > 60 || LAT_DURATION < 1 || LAT_DURATION > 60 || ROUNDS < 1 || ROUNDS > 9)); then
	echo "bench-dns: DURATION and LAT_DURATION must be 1..60 seconds, ROUNDS 1..9" >&2
	exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
wufault_pid=""
dnsmasq_pid=""
cleanup() {
	local pid
	for pid in $wufault_pid $dnsmasq_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

printf '%s A\n' fe2.update.microsoft.com sls.update.microsoft.com \
	download.windowsupdate.com fe3.delivery.mp.microsoft.com >"$tmp/lab.txt"
printf '%s A\n' nx.update.microsoft.com >"$tmp/nx.txt"

# wufault: the simulate package's bench server (the world's DNS service,
# lab zone on 127.0.0.1, one dns.nxdomain rule), built without -race.
(cd "$repo" && go test -c -o "$tmp/simulate.test" ./simulate)
serve_seconds=$((4 * (ROUNDS * DURATION + LAT_DURATION) + 60))
WUFAULT_DNS_BENCH_READY="$tmp/ready" WUFAULT_DNS_BENCH_SECONDS=$serve_seconds \
	"$tmp/simulate.test" -test.run '^TestDNSBenchServer$' -test.timeout $((serve_seconds + 30))s \
	>"$tmp/wufault.log" 2>&1 &
wufault_pid=$!
for _ in $(seq 100); do [[ -s $tmp/ready ]] && break; sleep 0.1; done
if [[ ! -s $tmp/ready ]]; then
	echo "bench-dns: wufault DNS did not start" >&2
	cat "$tmp/wufault.log" >&2
	exit 1
fi
wufault_port=$(sed -E 's/.*:([0-9]+)$/\1/' "$tmp/ready")

# dnsmasq: the same answers from static configuration, no upstream, no
# cache of upstream answers to warm, TTL 60 like the lab zone.
for _ in $(seq 10); do
	port=$((20000 + RANDOM % 40000))
	dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
		--listen-address=127.0.0.1 --bind-interfaces --port="$port" --local-ttl=60 \
		--pid-file="$tmp/dnsmasq.pid" \
		--address=/update.microsoft.com/127.0.0.1 --address=/windowsupdate.com/127.0.0.1 \
		--address=/delivery.mp.microsoft.com/127.0.0.1 --address=/nx.update.microsoft.com/ \
		>"$tmp/dnsmasq.log" 2>&1 &
	dnsmasq_pid=$!
	sleep 0.3
	if kill -0 "$dnsmasq_pid" 2>/dev/null; then
		dnsmasq_port=$port
		break
	fi
	wait "$dnsmasq_pid" 2>/dev/null || true
	dnsmasq_pid=""
done
if [[ -z $dnsmasq_pid ]]; then
	echo "bench-dns: dnsmasq did not start" >&2
	cat "$tmp/dnsmasq.log" >&2
	exit 1
fi

# Both must give the same answers before anything is measured.
for p in "$wufault_port" "$dnsmasq_port"; do
	got=$(dig @127.0.0.1 -p "$p" +short +tries=1 +time=2 fe2.update.microsoft.com A)
	[[ $got == 127.0.0.1 ]] || { echo "bench-dns: port $p answered '$got' for the lab name" >&2; exit 1; }
	got=$(dig @127.0.0.1 -p "$p" +tries=1 +time=2 nx.update.microsoft.com A | grep -o 'status: [A-Z]*')
	[[ $got == "status: NXDOMAIN" ]] || { echo "bench-dns: port $p answered '$got' for the nx name" >&2; exit 1; }
done

# cpu_ticks PID: user+system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)

# throughput PORT PID FILE -> "qps lost avg_latency_ms cpu_us_per_query"
# The server's CPU time per answered query does not depend on what else
# runs on the machine, unlike queries per second.
throughput() {
	local before after
	before=$(cpu_ticks "$2")
	dnsperf -s 127.0.0.1 -p "$1" -d "$3" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" >"$tmp/out" 2>&1
	after=$(cpu_ticks "$2")
	awk -v ticks=$((after - before)) -v hz="$clk_tck" \
		'/Queries per second:/ {qps=$4}
	     /Queries completed:/ {done=$3}
	     /Queries lost:/ {lost=$3}
	     /Average Latency/ {avg=$4*1000}
	     END {printf "%.0f %s %.3f %.2f\n", qps, lost, avg, (done > 0 ? ticks / hz * 1e6 / done : 0)}' "$tmp/out"
}

# latency PORT FILE -> "p50_ms p99_ms max_ms lost" at LAT_QPS
latency() {
	dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$LAT_DURATION" -Q "$LAT_QPS" -c "$CLIENTS" -v >"$tmp/lat" 2>&1
	awk '$1 == ">" {print $NF}' "$tmp/lat" | sort -g >"$tmp/sorted"
	lost=$(awk '/Queries lost:/ {print $3}' "$tmp/lat")
	awk -v lost="$lost" '{v[NR]=$1}
	     END {
	       if (NR == 0) {print "- - - " lost; exit}
	       p50=v[int(NR*0.50)>0?int(NR*0.50):1]; p99=v[int(NR*0.99)>0?int(NR*0.99):1]
	       printf "%.3f %.3f %.3f %s\n", p50*1000, p99*1000, v[NR]*1000, lost
	     }' "$tmp/sorted"
}

# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A qps lost avg cpu
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for set in lab nx; do
	for round in $(seq "$ROUNDS"); do
		# Alternate which server goes first, so drifting load from other
		# processes on the machine hits both alike.
		order="wufault dnsmasq"
		((round % 2 == 0)) && order="dnsmasq wufault"
		for server in $order; do
			port_var=${server}_port
			pid_var=${server}_pid
			read -r q l a c < <(throughput "${!port_var}" "${!pid_var}" "$tmp/$set.txt")
			qps[$set.$server]+="$q "
			lost[$set.$server]+="$l "
			avg[$set.$server]+="$a "
			cpu[$set.$server]+="$c "
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## DNS"
echo
echo "\`scripts/bench-dns.sh\` ($(date -u +%Y-%m-%d), $(dnsperf -h 2>&1 | awk '/^Version/ {print "dnsperf " $2}'), $(dnsmasq --version | awk 'NR==1 {print "dnsmasq " $3}'), $(go version | awk '{print $3}')):"
echo "loopback UDP; throughput is the median of $ROUNDS alternating runs of dnsperf -c $CLIENTS -q $OUTSTANDING -l $DURATION"
echo "per server; latency percentiles from dnsperf -v at a fixed $LAT_QPS queries/s for $LAT_DURATION s."
echo "Both servers share the machine's cores with dnsperf (load average before/after: $load_before / $load_after)."
echo
echo "| query set | server | queries/s (median) | runs | lost | server CPU per query (µs, median) | avg latency at full load (ms, median) | p50 at $LAT_QPS q/s (ms) | p99 at $LAT_QPS q/s (ms) | max (ms) |"
echo "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"
declare -A med
for set in lab nx; do
	for server in wufault dnsmasq; do
		port_var=${server}_port
		read -r p50 p99 pmax _ < <(latency "${!port_var}" "$tmp/$set.txt")
		med[$set.$server]=$(tr ' ' '\n' <<<"${qps[$set.$server]}" | grep . | median)
		m_avg=$(tr ' ' '\n' <<<"${avg[$set.$server]}" | grep . | median)
		m_cpu=$(tr ' ' '\n' <<<"${cpu[$set.$server]}" | grep . | median)
		total_lost=$(tr ' ' '\n' <<<"${lost[$set.$server]}" | grep . | awk '{s+=$1} END {print s}')
		echo "| $set | $server | ${med[$set.$server]} | ${qps[$set.$server]% } | $total_lost | $m_cpu | $m_avg | $p50 | $p99 | $pmax |"
	done
done
echo
for set in lab nx; do
	awk -v s="$set" -v a="${med[$set.wufault]}" -v b="${med[$set.dnsmasq]}" \
		'BEGIN {printf "- %s: wufault/dnsmasq = %.2f\n", s, (b > 0 ? a / b : 0)}'
done
