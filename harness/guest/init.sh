#!/bin/sh
# nestbench guest init: run by busybox init (sysinit) at every QEMU level.
# Contract with the controller (see docs/qemu.md):
#   kernel command line  nestbench.level=N nestbench.port=P   (sshd port of this level)
#   fw_cfg               opt/nestbench/host_key         dropbear host key (pinned by the controller)
#                        opt/nestbench/authorized_keys  the stack's client public key
#   /dev/vda             the chain disk (vmlinuz, initrd.img), mounted read-only on /mnt
#   /dev/vdb             the scratch disk; an ext4 file system (made by the controller) at
#                        its start is mounted on /scratch, the rest is the child's disk
# It stays quiet on the console except for one line per step that fails and one when
# sshd is up, so deep levels (where every console byte is a costly exit) boot fast.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /mnt /scratch /root/.ssh /etc/dropbear
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
mkdir -p /run/nestbench

say() { echo "nestbench-init: $*" > /dev/console; }
arg() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "nestbench.$1="*) echo "${w#*=}" ;; esac
	done
}
wait_for() { # path, tenths of a second
	n=0
	while [ ! -e "$1" ] && [ "$n" -lt "$2" ]; do sleep 0.1; n=$((n + 1)); done
	[ -e "$1" ]
}

LEVEL=$(arg level)
PORT=$(arg port)
[ -n "$PORT" ] || PORT=22

modprobe -a virtio_pci virtio_mmio virtio_blk virtio_net qemu_fw_cfg 2>/dev/null
# The leaf image (deepest level) has no QEMU and no kvm modules: it starts nothing.
if ! command -v qemu-system-x86_64 >/dev/null; then
	:
elif grep -qw svm /proc/cpuinfo; then
	modprobe kvm_amd nested=1 2>/dev/null || say "kvm_amd did not load"
elif grep -qw vmx /proc/cpuinfo; then
	modprobe kvm_intel nested=1 2>/dev/null || say "kvm_intel did not load"
fi

# Network: QEMU user-mode networking always hands out 10.0.2.15/24, gateway 10.0.2.2.
ip link set lo up
if wait_for /sys/class/net/eth0 100; then
	ip addr add 10.0.2.15/24 dev eth0
	ip link set eth0 up
	ip route add default via 10.0.2.2
else
	say "no eth0"
fi

# Per-stack secrets from fw_cfg.
FW=/sys/firmware/qemu_fw_cfg/by_name/opt/nestbench
if wait_for "$FW/host_key/raw" 50; then
	cat "$FW/host_key/raw" > /etc/dropbear/host_key
	cat "$FW/authorized_keys/raw" > /root/.ssh/authorized_keys
else
	say "no per-stack keys in fw_cfg ($FW)"
fi
chmod 0600 /etc/dropbear/host_key /root/.ssh/authorized_keys 2>/dev/null
chmod 0700 /root /root/.ssh

# Disks: the chain disk read-only, the scratch file system read-write.
if ! command -v qemu-system-x86_64 >/dev/null; then
	: # the leaf starts no child: its chain disk stays unmounted (~30 s at L4)
elif wait_for /dev/vda 50; then
	mount -o ro /dev/vda /mnt || say "cannot mount the chain disk /dev/vda"
else
	say "no chain disk /dev/vda"
fi
if wait_for /dev/vdb 50; then
	mount -o noatime /dev/vdb /scratch || say "cannot mount the scratch disk /dev/vdb"
else
	say "no scratch disk /dev/vdb"
fi

# -W: a 2 MiB receive window instead of dropbear's 24 KiB. The agent's upload into a
# deep level crosses every level's user networking, where one round trip costs tens of
# milliseconds; with 24 KiB in flight the 742 KB upload into L4 took 8-10 s.
dropbear -r /etc/dropbear/host_key -p "$PORT" -s -j -k -W 2097152 -P /run/dropbear.pid ||
	say "dropbear did not start"
say "L$LEVEL up, sshd on port $PORT"
