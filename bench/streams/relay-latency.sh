#!/usr/bin/env bash
# relay-latency.sh LABEL=COMMAND...  (not part of `npm test`; root)
#
# Idle round-trip time through TUN<->TUN relays, the latency a relay adds per
# crossing (TCP through a relay is bound by window / RTT). For each relay: the
# shared harness's namespaces and addressing (/work/shared/bench: lib.sh,
# netns-setup.sh, its forwarder contract), but under our own names (tp-sl-a /
# tp-sl-b, devices tpslA / tpslB), then `ping -c COUNT -i 0.005` from A to B
# (each echo crosses the relay twice) and, with LOADED=1, the same during an
# iperf3 TCP stream (queueing included). Prints min/avg/p50/p99 in microseconds.
#
#   bench/streams/relay-latency.sh cfwd='/work/shared/bench/cfwd -m vnet' \
#       pipe='node bench/streams/relay-pipe.mjs'
#
# Env: COUNT (default 400), LOADED (0), BENCH (the harness directory). Bounded:
# every relay and traffic generator runs under `timeout`; namespaces are deleted
# on exit, also on failure.
set -euo pipefail
BENCH=${BENCH:-/work/shared/bench}
export NS_A=tp-sl-a NS_B=tp-sl-b TUN_A=tpslA TUN_B=tpslB STATE_DIR=${STATE_DIR:-/tmp/tp-sl-state}
# shellcheck source=/dev/null
. "$BENCH/lib.sh"
COUNT=${COUNT:-400}
LOADED=${LOADED:-0}
mkdir -p "$STATE_DIR"
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	"$BENCH/netns-teardown.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# rtt_stats FILE: per-echo times (ms) from ping output -> "min avg p50 p99" in µs
rtt_stats() {
	grep -o 'time=[0-9.]*' "$1" | cut -d= -f2 | sort -g |
		awk '{ v[NR] = $1 * 1000; s += $1 * 1000 }
		END {
			if (NR == 0) { print "no replies"; exit }
			p99 = int(NR * 0.99) + 1; if (p99 > NR) p99 = NR
			printf "n %d  min %.0f  avg %.0f  p50 %.0f  p99 %.0f us\n", NR, v[1], s / NR, v[int(NR * 0.5) + 1], v[p99]
		}'
}

for spec in "$@"; do
	label=${spec%%=*}
	cmd=${spec#*=}
	"$BENCH/netns-setup.sh" ns
	log=$STATE_DIR/$label.log
	TUN_A=$TUN_A TUN_B=$TUN_B timeout -k 5 120 bash -c "exec $cmd" >"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$STATE_DIR/fwd.pid"
	for _ in $(seq 1 150); do grep -q '^READY' "$log" && break; sleep 0.1; done
	grep -q '^READY' "$log" || die "$label did not print READY"
	"$BENCH/netns-setup.sh" tun
	nsx "$NS_A" timeout 10 ping -c 3 -W 1 -q "$B4" >/dev/null || die "$label: no ping through the relay"
	nsx "$NS_A" timeout 30 ping -c "$COUNT" -i 0.005 -W 1 "$B4" >"$STATE_DIR/$label.ping" || true
	printf '%-8s idle   %s\n' "$label" "$(rtt_stats "$STATE_DIR/$label.ping")"
	if [ "$LOADED" = 1 ]; then
		nsx "$NS_B" timeout 20 iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
		srv=$!
		sleep 0.3
		nsx "$NS_A" timeout 15 iperf3 -c "$B4" -p 5299 -t 4 >/dev/null 2>&1 &
		cli=$!
		sleep 0.5
		nsx "$NS_A" timeout 10 ping -c 300 -i 0.01 -W 1 "$B4" >"$STATE_DIR/$label.loaded" || true
		wait "$cli" 2>/dev/null || true
		wait "$srv" 2>/dev/null || true
		printf '%-8s loaded %s\n' "$label" "$(rtt_stats "$STATE_DIR/$label.loaded")"
	fi
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
	"$BENCH/netns-teardown.sh" >/dev/null 2>&1
done
