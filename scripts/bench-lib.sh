# bench-lib.sh: what the benchmark scripts share, sourced after `set -euo
# pipefail`. It sets repo (the checkout), tmp (removed on exit) and pids
# (every process started here, stopped on exit), and defines free_port,
# wait_port and wait_file. Everything is on 127.0.0.1.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { # a TCP port free on 127.0.0.1 now
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() { # PORT: until something accepts on 127.0.0.1:PORT (10 s)
	for _ in $(seq 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wait_file() { # FILE: until it has content (10 s)
	for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.1; done
	return 1
}
