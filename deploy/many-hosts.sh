#!/usr/bin/env bash
# many-hosts.sh - several bodycam hosts on one machine, to try what tests/test_many_hosts.py proves:
# each host is a network namespace (10.77.0.11, .12, ...) with its own hostname, on a bridge
# (the machine is 10.77.0.1), reaching PostgreSQL and the S3 store over its own veth link.
# Root only; iproute2, util-linux (unshare) and socat.
#
#   deploy/many-hosts.sh up dock1 dock2 ana1        # make the hosts; forward the servers (below)
#   deploy/many-hosts.sh run dock1 bodycam --config /etc/bodycam/dock1.toml ingest watch
#   deploy/many-hosts.sh kill dock1                  # the host dies whole: SIGKILL to all it runs
#   deploy/many-hosts.sh down                        # remove every host, link and forwarder
#
# Output of what runs on a host: /run/bodycam-hosts/HOST.log.
# Servers on loopback are forwarded to the bridge address: FORWARD="55432=127.0.0.1:55432
# 7480=127.0.0.1:7480" (the default: ../shared/services' PostgreSQL and RGW), so that a host's
# settings say database.url = postgresql+psycopg://bodycam@10.77.0.1:55432/bodycam and
# store.endpoint = http://10.77.0.1:7480.
set -euo pipefail
BRIDGE=bcbr0 NET=10.77.0 STATE=/run/bodycam-hosts
FORWARD=${FORWARD-"55432=127.0.0.1:55432 7480=127.0.0.1:7480"}
say() { printf '[many-hosts] %s\n' "$*" >&2; }
[[ $(id -u) == 0 ]] || { say "run as root"; exit 1; }
mkdir -p "$STATE"

up() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || {
    ip link add "$BRIDGE" type bridge && ip addr add "$NET.1/24" dev "$BRIDGE" && ip link set "$BRIDGE" up; }
  local n
  n=$(ls "$STATE" | grep -c '\.addr$' || true)
  for name in "$@"; do
    [[ -e $STATE/$name.addr ]] && { say "$name exists"; continue; }
    n=$((n + 1))
    ip netns add "bc-$name"
    ip link add "bcv-$name" type veth peer name eth0 netns "bc-$name"
    ip link set "bcv-$name" master "$BRIDGE" up
    ip -n "bc-$name" addr add "$NET.$((10 + n))/24" dev eth0
    ip -n "bc-$name" link set eth0 up
    ip -n "bc-$name" link set lo up
    ip -n "bc-$name" route add default via "$NET.1"
    echo "$NET.$((10 + n))" > "$STATE/$name.addr"
    say "$name: $NET.$((10 + n)), hostname $name"
  done
  for f in $FORWARD; do
    local port=${f%%=*} to=${f#*=}
    [[ -s $STATE/fwd-$port.pid ]] && kill -0 "$(<"$STATE/fwd-$port.pid")" 2>/dev/null && continue
    socat "TCP-LISTEN:$port,bind=$NET.1,fork,reuseaddr" "TCP:$to" </dev/null >>"$STATE/fwd-$port.log" 2>&1 &
    echo $! > "$STATE/fwd-$port.pid"
    say "forwarding $NET.1:$port to $to"
  done
}

run() {  # host command...: in the host's network and with its hostname; its own process group
  local name=$1; shift
  [[ -e $STATE/$name.addr ]] || { say "no host $name (up $name first)"; exit 2; }
  setsid ip netns exec "bc-$name" unshare --uts sh -c "hostname $name && exec \"\$@\"" sh "$@" \
    </dev/null >>"$STATE/$name.log" 2>&1 &
  echo $! >> "$STATE/$name.pids"
  say "$name: started pid $! ($*), output in $STATE/$name.log"
}

kill_host() {
  local name=$1
  [[ -s $STATE/$name.pids ]] || return 0
  while read -r pid; do kill -9 -- "-$pid" 2>/dev/null || true; done < "$STATE/$name.pids"
  rm -f "$STATE/$name.pids"
  say "$name: killed"
}

down() {
  for f in "$STATE"/*.addr; do [[ -e $f ]] || continue; local name; name=$(basename "$f" .addr)
    kill_host "$name"; ip netns del "bc-$name" 2>/dev/null || true; rm -f "$f" "$STATE/$name.log"; done
  for f in "$STATE"/fwd-*.pid; do [[ -e $f ]] && kill "$(<"$f")" 2>/dev/null; rm -f "$f"; done
  ip link del "$BRIDGE" 2>/dev/null || true
  say "down"
}

case ${1:-} in
  up) shift; up "$@" ;;
  run) shift; run "$@" ;;
  kill) kill_host "${2:?host}" ;;
  down) down ;;
  *) echo "usage: $0 up HOST... | run HOST COMMAND... | kill HOST | down" >&2; exit 2 ;;
esac
