#!/usr/bin/env bash
# Installs the Debian packages the lab and the tests use, when they are missing:
#   sshd (one per simulated hypervisor), etcd + etcdctl (the lab's real etcd cluster),
#   nodeset (the reference our nodeset syntax is tested against), chromium (Web UI test),
#   glusterd + the FUSE client (the lab's real-GlusterFS mode), ip (its namespaces),
#   ipmitool + OpenIPMI's ipmi_sim (the worker's ipmitool against a real BMC, test/lab/ipmi-sim.test.ts),
#   gcc (the lab's native stand-in client for fleetctl, lab/native-client.ts).
set -euo pipefail
declare -A pkg_for=(
  [/usr/sbin/sshd]=openssh-server
  [/usr/bin/ssh-keygen]=openssh-client
  [/usr/bin/etcd]=etcd-server
  [/usr/bin/etcdctl]=etcd-client
  [/usr/bin/nodeset]=clustershell
  [/usr/bin/chromium]=chromium
  [/usr/bin/curl]=curl
  [/usr/sbin/glusterd]=glusterfs-server
  [/usr/sbin/mount.glusterfs]=glusterfs-client
  [/usr/bin/ip]=iproute2
  [/usr/bin/ipmitool]=ipmitool
  [/usr/bin/ipmi_sim]=openipmi
  [/usr/bin/gcc]=gcc
)
missing=()
for bin in "${!pkg_for[@]}"; do [ -x "$bin" ] || missing+=("${pkg_for[$bin]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]} (run this script as root, or install them)" >&2; exit 1
  fi
  echo "installing ${missing[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# Debian starts etcd and glusterd as services where systemd runs; the lab needs the loopback ports
# free and runs its own glusterd per simulated host.
for svc in etcd glusterd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl disable --now "$svc" >&2 || true
  fi
done
mkdir -p /run/sshd
