#!/usr/bin/env bash
# ceph-cluster.sh - a small Ceph cluster on one machine, to try bodycam against the shape of
# production: 1 monitor, 3 OSDs (a replicated pool of size 3, min_size 2: any one OSD may stop
# and every object stays readable and writable) and 2 RGW endpoints with S3 Object Lock.
# Debian's ceph packages (installed with apt-get when missing). Loopback only.
#
#   deploy/ceph-cluster.sh up       # create (first time) and start; prints export lines
#   deploy/ceph-cluster.sh stop osd.1 | rgw.2     # stop one daemon (SIGKILL: it dies, it is not shut down)
#   deploy/ceph-cluster.sh start osd.1 | rgw.2    # start it again
#   deploy/ceph-cluster.sh down     # stop everything (data kept); down --wipe removes it
#
# Prints: export S3_CLUSTER_ENDPOINTS=http://127.0.0.1:7491,http://127.0.0.1:7492 and the
# S3 credentials. Set bodycam's store.endpoints to the list (or one load balancer in front).
# Env: CEPH3_BASE (/tmp/bodycam-ceph3), CEPH3_PORT (7491: RGW ports PORT and PORT+1; monitor
# on PORT+10 and PORT+11), CEPH3_OSD_GB (4, sparse files), S3_ACCESS_KEY, S3_SECRET_KEY.
set -euo pipefail
BASE=${CEPH3_BASE:-/tmp/bodycam-ceph3}
PORT=${CEPH3_PORT:-7491}
OSD_GB=${CEPH3_OSD_GB:-4}
KEY=${S3_ACCESS_KEY:-bodycam}
SECRET=${S3_SECRET_KEY:-bodycam-secret-key}
CONF=$BASE/ceph.conf KEYRING=$BASE/keyring DATA=$BASE/data RUN=$BASE/run LOG=$BASE/log
MON_V2=$((PORT + 10)) MON_V1=$((PORT + 11))
OSDS=(0 1 2) RGWS=(1 2)
CEPH=(ceph -c "$CONF" --connect-timeout 15)

say() { printf '[ceph-cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
pidfile() { echo "$RUN/ceph-$1.pid"; }
running() { local f; f=$(pidfile "$1"); [[ -s $f ]] && kill -0 "$(<"$f")" 2>/dev/null; }
wait_for() { local t=$1 what=$2; shift 2; local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do ((SECONDS < end)) || die "$what: not within $t s (logs in $LOG)"; sleep 0.5; done
  say "$what: ok"; }

packages() {
  command -v radosgw >/dev/null && command -v ceph-osd >/dev/null && command -v ceph-mon >/dev/null && return
  say "installing ceph-mon ceph-osd radosgw with apt-get"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ceph-mon ceph-osd radosgw uuid-runtime curl) >&2
}

configure() {
  [[ -s $CONF ]] && return
  mkdir -p "$DATA" "$RUN" "$LOG"
  local fsid; fsid=$(uuidgen)
  say "configuring $BASE (fsid $fsid)"
  {
    cat <<EOF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $KEYRING
run_dir = $RUN
crash_dir = $BASE/crash
admin_socket = $RUN/\$cluster-\$name.asok
pid_file = $RUN/\$cluster-\$name.pid
log_file = $LOG/\$cluster-\$name.log
mon_cluster_log_file = default=$LOG/\$cluster.\$channel.log cluster=$LOG/\$cluster.log
# three copies, writes go on with two: one OSD may be lost at any moment
osd_pool_default_size = 3
osd_pool_default_min_size = 2
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
# one machine: copies go to different OSDs, not different hosts
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
mon_allow_pool_delete = true
mon_data_avail_warn = 2
mon_data_avail_crit = 1
auth_allow_insecure_global_id_reclaim = false
# a stopped OSD is noticed within seconds, not the default 20
osd_heartbeat_interval = 1
osd_heartbeat_grace = 4
mon_osd_min_down_reporters = 1
mon_osd_down_out_interval = 600

[mon]
mon_data = $DATA/mon.\$id
paxos_propose_interval = 0.1

[osd]
osd_data = $DATA/osd.\$id
keyring = $DATA/osd.\$id/keyring
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = $((OSD_GB * 1024 * 1024 * 1024))
osd_memory_target = 939524096
EOF
    for n in "${RGWS[@]}"; do
      printf '\n[client.rgw.gw%s]\nrgw_frontends = beast endpoint=127.0.0.1:%s\nrgw_data = %s\n' \
        "$n" "$((PORT + n - 1))" "$DATA/rgw.gw$n"
    done
  } > "$CONF"
  ceph-authtool --create-keyring "$KEYRING" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$KEYRING" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
  for n in "${RGWS[@]}"; do
    ceph-authtool "$KEYRING" --gen-key -n "client.rgw.gw$n" --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
  done
  chmod 600 "$KEYRING"
}

start_mon() {
  if [[ ! -e $DATA/mon.a/.made ]]; then
    monmaptool --create --fsid "$(awk '$1=="fsid"{print $3}' "$CONF")" \
      --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$BASE/monmap" >/dev/null
    mkdir -p "$DATA/mon.a"
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$BASE/monmap" --keyring "$KEYRING"
    touch "$DATA/mon.a/.made"
  fi
  running mon.a || ceph-mon -c "$CONF" -i a
  wait_for 60 "monitor" "${CEPH[@]}" mon stat
}

make_osd() {  # $1 = id
  local dir=$DATA/osd.$1
  [[ -e $dir/.made ]] && return
  mkdir -p "$dir"
  local uuid secret; uuid=$(uuidgen); secret=$(ceph-authtool --gen-print-key)
  printf '{"cephx_secret": "%s"}' "$secret" > "$dir/new.json"
  [[ $("${CEPH[@]}" osd new "$uuid" "$1" -i "$dir/new.json") == "$1" ]] || die "osd new $1"
  rm -f "$dir/new.json"
  printf '[osd.%s]\n\tkey = %s\n' "$1" "$secret" > "$dir/keyring"
  ceph-osd -c "$CONF" -i "$1" --mkfs --osd-uuid "$uuid" >>"$LOG/mkfs.log" 2>&1 || die "mkfs osd.$1 ($LOG/mkfs.log)"
  touch "$dir/.made"
}

osd_up() { "${CEPH[@]}" osd dump | grep -Eq "^osd\.$1 up "; }
rgw_up() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(($PORT + $1 - 1))/") == 200 ]]; }

start_one() {  # osd.N | rgw.N
  local kind=${1%%.*} n=${1#*.}
  case $kind in
    osd) running "osd.$n" || ceph-osd -c "$CONF" -i "$n"; wait_for 120 "osd.$n up" osd_up "$n" ;;
    rgw) mkdir -p "$DATA/rgw.gw$n"; running "client.rgw.gw$n" || radosgw -c "$CONF" -n "client.rgw.gw$n"
         wait_for 180 "rgw.$n on port $((PORT + n - 1))" rgw_up "$n" ;;
    *) die "start: osd.N or rgw.N, not $1" ;;
  esac
}

stop_one() {  # osd.N | rgw.N: SIGKILL, as a crash or a pulled cable would
  local kind=${1%%.*} n=${1#*.} name
  case $kind in osd) name=osd.$n ;; rgw) name=client.rgw.gw$n ;; *) die "stop: osd.N or rgw.N, not $1" ;; esac
  if running "$name"; then
    local pid; pid=$(<"$(pidfile "$name")")
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done  # gone, its locks released, before anyone restarts it
    say "$1 killed"
  fi
  if [[ $kind == osd ]]; then
    "${CEPH[@]}" osd down "$n" >/dev/null 2>&1 || true  # what the peers' heartbeats report a few seconds later
  fi
}

up() {
  packages
  configure
  start_mon
  for n in "${OSDS[@]}"; do make_osd "$n"; start_one "osd.$n"; done
  for n in "${RGWS[@]}"; do start_one "rgw.$n"; done
  local adm=(radosgw-admin -c "$CONF" -n client.rgw.gw1 --admin-socket "$RUN/radosgw-admin.asok")
  "${adm[@]}" user info --uid="$KEY" >/dev/null 2>&1 \
    || "${adm[@]}" user create --uid="$KEY" --display-name="$KEY" --access-key="$KEY" --secret-key="$SECRET" >/dev/null
  say "pool .rgw.root $("${CEPH[@]}" osd pool get .rgw.root size), $("${CEPH[@]}" osd pool get .rgw.root min_size)"
  echo "export S3_CLUSTER_ENDPOINTS=http://127.0.0.1:$PORT,http://127.0.0.1:$((PORT + 1))"
  echo "export S3_ACCESS_KEY=$KEY"
  echo "export S3_SECRET_KEY=$SECRET"
  echo "export S3_REGION=default"
}

down() {
  for f in "$RUN"/ceph-*.pid; do [[ -s $f ]] && kill "$(<"$f")" 2>/dev/null || true; done
  say "stopped"
  [[ ${1:-} == --wipe ]] && rm -rf "$BASE" && say "wiped $BASE"
  return 0
}

case ${1:-} in
  up) up ;;
  down) shift; down "${1:-}" ;;
  stop) stop_one "${2:?osd.N or rgw.N}" ;;
  start) start_one "${2:?osd.N or rgw.N}" ;;
  *) echo "usage: $0 up | down [--wipe] | stop osd.N|rgw.N | start osd.N|rgw.N" >&2; exit 2 ;;
esac
