#!/usr/bin/env bash
# bench-peers.sh: one run, one table. Large plain-HTTP downloads on loopback
# through wufault's proxy (plain HTTP and a CONNECT tunnel), a splice-only
# CONNECT relay of our own as the floor, bare elazarl/goproxy, toxiproxy
# (a TCP forwarder), tinyproxy and mitmproxy; speed, ratio to the relay and
# each proxy process's CPU seconds per GiB (from /proc).
#
#   scripts/bench-peers.sh                  # 512 MiB per transfer, 3 runs, markdown on stdout
#   BYTES=134217728 COUNT=1 scripts/bench-peers.sh   # a quick look
#
# Needs go, curl and python3. toxiproxy is built from its Go module
# (github.com/Shopify/toxiproxy/v2, TOXIPROXY_VERSION) into a temporary
# directory; tinyproxy and mitmproxy come from Debian (apt-get install -y
# tinyproxy mitmproxy) and are reported missing when absent. Everything
# listens on 127.0.0.1 and stops on exit; the load is COUNT transfers of
# BYTES per path.
set -euo pipefail

BYTES=${BYTES:-536870912} # 512 MiB
COUNT=${COUNT:-3}
TOXIPROXY_VERSION=${TOXIPROXY_VERSION:-v2.5.0}
if ((COUNT < 1 || COUNT > 20 || BYTES < 1048576 || BYTES > 8589934592)); then
	echo "bench-peers: COUNT 1..20, BYTES 1 MiB..8 GiB" >&2
	exit 2
fi
for tool in go curl python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bench-peers: $tool not found" >&2; exit 2; }
done

# shellcheck source=scripts/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

(
	cd "$repo"
	go build -o "$tmp/wufault" ./cmd/wufault
	go build -o "$tmp/relay" ./scripts/peers/relay
	go build -o "$tmp/goproxy" ./scripts/peers/goproxy
	go test -c -o "$tmp/peers.test" ./scripts/peers
)
peers=()
missing=()
versions=()

# wufault: proxy and control API only, no DNS, no emulator. Loopback
# origins are refused by default where the proxy has a destination policy,
# so the benchmark's origin is allowed explicitly.
allow=()
serve_help=$("$tmp/wufault" serve --help 2>&1)
if [[ $serve_help == *--allow-upstream* ]]; then
	allow=(--allow-upstream 127.0.0.1/32)
fi
"$tmp/wufault" serve --proxy 127.0.0.1:0 --control 127.0.0.1:0 --dns "" --upstream-http "" --upstream-https "" \
	"${allow[@]}" --state-dir "$tmp/state" --ready-file "$tmp/ready.json" --log-level error >"$tmp/wufault.log" 2>&1 &
wpid=$!
pids+=("$wpid")
wait_file "$tmp/ready.json" || { echo "bench-peers: wufault did not start" >&2; cat "$tmp/wufault.log" >&2; exit 1; }
waddr=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["proxy"])' "$tmp/ready.json")
versions+=("wufault $(git -C "$repo" rev-parse --short HEAD)")

"$tmp/relay" -ready "$tmp/relay.addr" &
pids+=("$!")
wait_file "$tmp/relay.addr"
peers+=("splice-relay (CONNECT)|connect|$(cat "$tmp/relay.addr")|$!")
peers+=("wufault CONNECT|connect|$waddr|$wpid")
peers+=("wufault plain HTTP|plain|$waddr|$wpid")

"$tmp/goproxy" -ready "$tmp/goproxy.addr" &
pids+=("$!")
wait_file "$tmp/goproxy.addr"
peers+=("bare goproxy plain|plain|$(cat "$tmp/goproxy.addr")|$!")
versions+=("goproxy $(cd "$repo" && go list -m -f '{{.Version}}' github.com/elazarl/goproxy)")

origin=127.0.0.1:$(free_port)

if GOBIN="$tmp/bin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >"$tmp/toxi-build.log" 2>&1; then
	tport=$(free_port)
	"$tmp/bin/server" -host 127.0.0.1 -port "$tport" >"$tmp/toxiproxy.log" 2>&1 &
	tpid=$!
	pids+=("$tpid")
	wait_port "$tport"
	lport=$(free_port)
	curl -fsS -X POST "http://127.0.0.1:$tport/proxies" \
		-d "{\"name\":\"bench\",\"listen\":\"127.0.0.1:$lport\",\"upstream\":\"$origin\"}" >/dev/null
	peers+=("toxiproxy (TCP)|forward|127.0.0.1:$lport|$tpid")
	versions+=("toxiproxy $TOXIPROXY_VERSION")
else
	missing+=("toxiproxy (go install failed: $(tail -1 "$tmp/toxi-build.log"))")
fi

if command -v mitmdump >/dev/null 2>&1; then
	port=$(free_port)
	mitmdump --mode regular --listen-host 127.0.0.1 --listen-port "$port" \
		--set stream_large_bodies=1m --set confdir="$tmp/mitmproxy" -q >"$tmp/mitmproxy.log" 2>&1 &
	mpid=$!
	pids+=("$mpid")
	if wait_port "$port"; then
		peers+=("mitmproxy CONNECT|connect|127.0.0.1:$port|$mpid")
		versions+=("$(mitmdump --version 2>/dev/null | awk '/Mitmproxy/ {print "mitmproxy " $2}')")
	else
		missing+=("mitmproxy (did not start)")
	fi
else
	missing+=("mitmproxy (not installed)")
fi

if command -v tinyproxy >/dev/null 2>&1; then
	port=$(free_port)
	printf 'Port %s\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\nAllow 127.0.0.1\nLogLevel Critical\n' "$port" >"$tmp/tinyproxy.conf"
	tinyproxy -d -c "$tmp/tinyproxy.conf" >"$tmp/tinyproxy.log" 2>&1 &
	ypid=$!
	pids+=("$ypid")
	if wait_port "$port"; then
		peers+=("tinyproxy CONNECT|connect|127.0.0.1:$port|$ypid")
		versions+=("$(tinyproxy -v 2>&1 | head -1)")
	else
		missing+=("tinyproxy (did not start)")
	fi
else
	missing+=("tinyproxy (not installed)")
fi

list="direct|direct|-|-"
for p in "${peers[@]}"; do list+=";$p"; done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
WUFAULT_PEERS=$list WUFAULT_PEERS_ORIGIN=$origin WUFAULT_PEERS_BYTES=$BYTES \
	"$tmp/peers.test" -test.run '^$' -test.bench '^BenchmarkPeers$' -test.benchtime 1x -test.count "$COUNT" \
	-test.timeout 60m >"$tmp/out.txt" 2>&1 || { cat "$tmp/out.txt" >&2; exit 1; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The table: per path the median of COUNT runs of MB/s and of CPU s/GiB.
python3 - "$tmp/out.txt" "$list" "$BYTES" "$COUNT" "$load_before" "$load_after" "${versions[*]}" "${missing[*]:-}" <<'PY'
import re, statistics, sys
out, plist, size, count, lb, la, versions, missing = sys.argv[1:9]
names = [item.split("|")[0] for item in plist.split(";")]
runs = {}
for line in open(out):
    m = re.match(r"BenchmarkPeers/(\S+?)(-\d+)?\s+\d+\s+\d+ ns/op\s+(.*)$", line)
    if not m:
        continue
    fields = dict((u, float(v)) for v, u in re.findall(r"([\d.]+) (\S+)", m.group(3)))
    runs.setdefault(m.group(1), []).append(fields)
def key(name):  # go test's sub-benchmark name for a path name
    return re.sub(r"\s", "_", name)
def med(name, unit):
    vals = [r[unit] for r in runs.get(key(name), []) if unit in r]
    return statistics.median(vals) if vals else None
relay = med("splice-relay (CONNECT)", "MB/s")
print(f"{int(size) >> 20} MiB per transfer, median of {count} runs; load average {lb} before, {la} after.")
print(f"Peers: {versions}." + (f" Not measured: {missing}." if missing else ""))
print()
print("| path | MB/s | × relay | proxy CPU s/GiB |")
print("|---|---:|---:|---:|")
for n in names:
    mbs, cpu = med(n, "MB/s"), med(n, "proxy-cpu-s/GiB")
    if mbs is None:
        print(f"| {n} | failed | | |")
        continue
    ratio = f"{mbs / relay:.2f}" if relay else "-"
    print(f"| {n} | {mbs:.0f} | {ratio} | {cpu:.2f} |" if cpu is not None else f"| {n} | {mbs:.0f} | {ratio} | - |")
print()
print("<details><summary>raw benchmark lines</summary>\n\n```")
print("".join(l for l in open(out) if l.startswith("Benchmark")), end="")
print("```\n\n</details>")
PY
