#!/usr/bin/env bash
# A throwaway single-node Slurm on loopback, for the Slurm integration test (test/integration/slurm.test.ts):
# installs Debian's slurm-wlm and munge when missing, writes /etc/slurm/slurm.conf for this host (its real
# CPUs and memory from `slurmd -C`), and starts munged, slurmctld and slurmd directly as daemons (no
# systemd, no cgroups: proctrack/linuxproc and task/none, so it works in a container or a bare VM), then
# waits until the node is idle. No accounting database. Idempotent: what already runs is left running.
#
# Usage (as root): scripts/slurm-test-cluster.sh [start|stop|status]
#   start   (default) install, configure, start, wait for the node to be idle
#   stop    stop slurmd, slurmctld and munged (the ones whose pid files this script wrote)
#   status  sinfo, and where the logs are
# Logs and state: $HEALBERT_SLURM_DIR (default /var/lib/healbert-slurm): log/, state/, spool/, run/.
#
# It refuses to overwrite a /etc/slurm/slurm.conf it did not write: do not run it on a real cluster node.
set -euo pipefail

base=${HEALBERT_SLURM_DIR:-/var/lib/healbert-slurm}
conf=/etc/slurm/slurm.conf
marker='# Written by healbert scripts/slurm-test-cluster.sh: a single-node test cluster on loopback.'
packages=(slurm-wlm munge)
action=${1:-start}

say() { echo "slurm-test-cluster: $*" >&2; }
die() {
  say "$*"
  exit 1
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# The pid in a pid file, when that process is alive.
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() { # name pidfile
  running "$2" || return 0
  local pid
  pid=$(cat "$2")
  kill "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "$1 (pid $pid) did not stop within 5 s"
  return 1
}

stop_all() {
  stop_pidfile slurmd "$base/run/slurmd.pid"
  stop_pidfile slurmctld "$base/run/slurmctld.pid"
  stop_pidfile munged /run/munge/munged.pid
}

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${missing[*]} yourself"
  say "installing ${missing[*]} (a minute or less)"
  local log
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  # The package lists are usually fresh enough; update them only when the install fails without.
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      die "apt-get failed (output above)"
    fi
  fi
  rm -f "$log"
}

write_config() {
  local node cpus boards sockets cores threads memory
  node=$(hostname -s)
  # slurmd -C prints this host's hardware as a NodeName line; keep its counts, add the loopback address.
  local hardware
  hardware=$(slurmd -C | head -n 1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hardware")
  boards=$(sed -n 's/.* Boards=\([0-9]*\).*/\1/p' <<<"$hardware")
  sockets=$(sed -n 's/.* SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$hardware")
  cores=$(sed -n 's/.* CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$hardware")
  threads=$(sed -n 's/.* ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$hardware")
  memory=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
  [ -n "$cpus" ] && [ -n "$memory" ] || die "could not read CPUs and memory from 'slurmd -C': $hardware"
  local text
  text=$(
    cat <<EOF
$marker
# Remove it with: scripts/slurm-test-cluster.sh stop && rm $conf
ClusterName=healbert-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/run/slurmctld.pid
SlurmdPidFile=$base/run/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No systemd, no cgroups: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
# A test cluster on a small machine: let up to 4 jobs share each CPU, so that several array tasks run at once.
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus Boards=${boards:-1} SocketsPerBoard=${sockets:-1} CoresPerSocket=${cores:-$cpus} ThreadsPerCore=${threads:-1} RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
  )
  if [ -e "$conf" ] && ! grep -qxF "$marker" "$conf"; then
    die "$conf exists and was not written by this script; not touching it (is this a real Slurm node?)"
  fi
  if [ -e "$conf" ] && [ "$(cat "$conf")" = "$text" ]; then
    return 0
  fi
  # A changed config needs the daemons restarted.
  stop_pidfile slurmd "$base/run/slurmd.pid"
  stop_pidfile slurmctld "$base/run/slurmctld.pid"
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$text" >"$conf"
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0600 /etc/munge/munge.key
  if running /run/munge/munged.pid && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "munged does not answer; see /var/log/munge/munged.log"
}

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -n 1; }

start_all() {
  [ "$(id -u)" -eq 0 ] || die "needs root (it installs packages and starts daemons)"
  install_packages
  mkdir -p "$base/log" "$base/state" "$base/spool" "$base/run"
  write_config
  start_munge
  running "$base/run/slurmctld.pid" || slurmctld
  running "$base/run/slurmd.pid" || slurmd
  local state=''
  for _ in $(seq 120); do
    state=$(node_state)
    case "$state" in
      idle | mixed | allocated) break ;;
      down* | drain* | drained*) scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  case "$state" in
    idle | mixed | allocated) say "up: node $(hostname -s) $state; logs in $base/log" ;;
    *)
      tail -n 20 "$base/log/slurmctld.log" "$base/log/slurmd.log" >&2 || true
      die "the node did not become idle within 60 s (state: '${state:-no answer}'; logs above)"
      ;;
  esac
}

case "$action" in
  start) start_all ;;
  stop)
    [ "$(id -u)" -eq 0 ] || die "needs root"
    stop_all
    ;;
  status)
    sinfo
    echo "logs: $base/log"
    ;;
  *) die "usage: $0 [start|stop|status]" ;;
esac
