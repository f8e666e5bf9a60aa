#!/bin/bash
# A one-node Slurm cluster on this machine, for tests and for trying the LOSO array
# without a real cluster (Debian/Ubuntu, as root):
#
#   Scripts/slurm/local_cluster.sh start [STATE_DIR]   # installs slurm + munge if missing
#   export SLURM_CONF=STATE_DIR/slurm.conf             # what `start` prints
#   Scripts/slurm/local_cluster.sh stop [STATE_DIR]    # stops the daemons it started
#
# The configuration lives in STATE_DIR (default /tmp/mer-slurm), never in /etc/slurm, so a
# real cluster's configuration on the same machine is left alone. One node named after this
# host with its CPUs and memory; processes tracked without cgroups (proctrack/linuxproc,
# task/none), so it runs in containers too.
set -euo pipefail
cmd=${1:-}
state=${2:-/tmp/mer-slurm}
conf=$state/slurm.conf

need_packages() {
  local missing=()
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
      apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 status=none
    chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if ! munge -n >/dev/null 2>&1 </dev/null; then
    # munged runs as munge, which cannot write into our (root, mode 700) state directory: its
    # pid file goes to /run/munge, and started-munged records where, for `stop`.
    local pidfile="/run/munge/local-cluster-$(basename "$state").pid"
    runuser -u munge -- /usr/sbin/munged --pid-file="$pidfile"
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 </dev/null && break; sleep 0.1; done
    echo "$pidfile" > "$state/started-munged"
  fi
}

write_conf() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  mkdir -p "$state/spool" "$state/ctld"
  cat > "$conf" <<CONF
ClusterName=mer
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobRequeue=1
MinJobAge=600
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

case "$cmd" in
  start)
    [ "$(id -u)" = 0 ] || { echo "local_cluster.sh: run as root (it starts daemons)" >&2; exit 1; }
    need_packages
    mkdir -p "$state"
    start_munge
    write_conf
    export SLURM_CONF=$conf
    if ! scontrol ping >/dev/null 2>&1; then
      # -c: a fresh controller state (no jobs left from an earlier cluster in STATE_DIR).
      /usr/sbin/slurmctld -f "$conf" -c
      /usr/sbin/slurmd -f "$conf"
    fi
    for _ in $(seq 100); do
      if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
        echo "one-node Slurm cluster up; use it with: export SLURM_CONF=$conf"
        exit 0
      fi
      sleep 0.2
    done
    echo "local_cluster.sh: the node did not come up; see $state/slurmctld.log and $state/slurmd.log" >&2
    exit 1
    ;;
  stop)
    for d in slurmd slurmctld; do
      [ -f "$state/$d.pid" ] && kill "$(cat "$state/$d.pid")" 2>/dev/null || true
    done
    if [ -f "$state/started-munged" ]; then
      pidfile="$(cat "$state/started-munged")"
      [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$state/started-munged" "$pidfile"
    fi
    echo "stopped the local Slurm daemons ($state)"
    ;;
  *)
    echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 2 ;;
esac
