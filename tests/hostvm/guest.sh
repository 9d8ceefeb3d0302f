#!/bin/bash
# Runs as root inside the Debian 12 VM (vm_test.sh): pure cgroup v2, systemd as PID 1, the .deb in
# /mnt/host. Each check prints `ok: <name>` or `FAIL: <name>: <why>`; the exit code counts the
# failures. The workload is a handful of calls: the guest runs emulated.
set -u
share=/mnt/host
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
t() { cut -d' ' -f1 /proc/uptime; }
echo "guest: $(uname -r), uptime $(t)s"
# What the host shows when a check hangs: the supervisor's journal and the processes, refreshed
# into the share while the checks run (vm_test.sh prints them on a timeout).
( while sleep 20; do
    journalctl -u clawjail.service -u clawjail.socket --no-pager -o short-monotonic 2>&1 | tail -60 >"$share/journal.tmp"
    ps -eo pid,ppid,stat,etimes,wchan:24,args 2>&1 | grep -v ' \[' >>"$share/journal.tmp"
    mv "$share/journal.tmp" "$share/journal.log"
  done ) &

# ---- the host ----
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && ! grep -qE '^[^ ]+ [^ ]+ cgroup ' /proc/self/mounts; then
  ok "cgroup2-only: /sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted ($(cat /sys/fs/cgroup/cgroup.controllers))"
else
  bad "cgroup2-only: $(grep cgroup /proc/self/mounts)"
fi

# ---- the package ----
if dpkg -i "$share/clawjail.deb" >/tmp/dpkg.log 2>&1; then ok "package installs"; else bad "package installs: $(cat /tmp/dpkg.log)"; fi
# As docs/operations.md says, after the install.
systemctl enable --now clawjail.socket 2>/dev/null
if [ "$(systemctl is-active clawjail.socket)" = active ] && [ "$(systemctl is-active clawjail.service)" = inactive ]; then
  ok "socket listening, service inactive until the first call"
else
  bad "socket/service state: socket $(systemctl is-active clawjail.socket), service $(systemctl is-active clawjail.service)"
fi


# ---- trust, a user, a WPC with small limits, a CST ----
keys=/root/keys
mkdir -p "$keys"
did() { clawjail keygen --out "$keys" --name "$1" | grep -o 'did:key:z[1-9A-HJ-NP-Za-km-z]*' | head -1; }
signer=$(did signer) issuer=$(did issuer)
useradd -m -G clawjail agent
agent_uid=$(id -u agent)
ws=/home/agent/ws
runuser -u agent -- mkdir -p "$ws"
config=/etc/clawjail/config.json
sed -i "s|\"wpc_signers\": \[\]|\"wpc_signers\": [\"$signer\"]|;
        s|\"cst_issuers\": \[\]|\"cst_issuers\": [{\"kid\": \"vm-issuer\", \"did\": \"$issuer\"}]|;
        s|\"uids\": \[\]|\"uids\": [$agent_uid]|" "$config"
# The WPC's limits, as each jail's cgroup must show them.
# The fork bomb runs until the timeout: long enough to be read on a slow, emulated guest.
mem_mb=64 pids=24 timeout_ms=20000
cat >/root/policy.json <<EOF
{ "wpc_version": "v1", "policy_id": "vm-limits", "issuer_did": "$signer",
  "job": { "id": "vm-job", "anti_replay": { "bind_job_scoped_cst": true } },
  "tools": { "allow": ["exec", "process", "read", "write:workspace"], "deny": [], "elevated": { "enabled": false } },
  "tokens": { "require_cst": true, "pin_wpc_hash": true },
  "sandbox": { "workspace_access": "rw",
               "limits": { "timeout_ms": $timeout_ms, "memory_mb": $mem_mb, "pids": $pids } } }
EOF
clawjail wpc sign --key "$keys/signer.key" /root/policy.json >/root/policy.wpc.json
hash=$(clawjail wpc install --config /etc/clawjail/config.json /root/policy.wpc.json | awk '{print $NF}' | tail -1)
cst=/home/agent/vm-job.cst
clawjail cst issue --key "$keys/issuer.key" --kid vm-issuer --sub "$issuer" --job vm-job --aud clawjail \
  --scope clawjail:call --policy "$hash" --ttl 3600 >"$cst"
chown agent: "$cst"
chmod 0600 "$cst"
[ -s "$cst" ] && [ -n "$hash" ] && ok "WPC installed ($hash), CST issued" || bad "setup: hash '$hash'"

# A call from the agent user, over the socket.
# Bounded, so that a hung call fails its check instead of the whole VM's time.
call() { timeout 300 runuser -u agent -- clawjail run --job vm-job --cst-file "$cst" --workspace "$ws" -- "$@"; }
# The `finished` receipt of the job's last call: status exit_code signal.
last_result() {
  clawjail receipts show --job vm-job --json --config /etc/clawjail/config.json | tr -d ' \n' |
    grep -o '"phase":"finished"[^}]*"result":{[^}]*}' | tail -1 |
    sed 's/.*"exit_code":\(-\{0,1\}[0-9]*\).*"signal":\([0-9]*\).*"status":"\([a-z]*\)".*/\3 \1 \2/'
}
svc=/sys/fs/cgroup/system.slice/clawjail.service
jail_dirs() { find "$svc" -mindepth 1 -maxdepth 1 -type d -name 'jail-*' 2>/dev/null; }
# The cgroup of the running call whose command line carries `marker`: the one process with it
# inside a jail cgroup (the client, runuser and timeout carry it too, outside). Jails built ahead
# of their calls wait in cgroups of their own, so "the cgroup holding a process" is not enough.
jail_of() {
  local marker=$1 p cg
  for _ in $(seq 300); do
    for p in $(pgrep -f -- "$marker"); do
      cg=$(sed -n 's/^0:://p' "/proc/$p/cgroup" 2>/dev/null)
      [[ "$cg" == /system.slice/clawjail.service/jail-* ]] && { echo "/sys/fs/cgroup${cg%%/}"; return; }
    done
    sleep 0.1
  done
}

# ---- socket activation and the delegated subtree ----
t0=$(t)
out=$(call /bin/echo hello 2>&1)
if [ "$out" = hello ] && [ "$(systemctl is-active clawjail.service)" = active ]; then
  ok "a call from the agent user activates the service ($(awk -v a="$t0" -v b="$(t)" 'BEGIN{printf "%.1f", b-a}')s)"
else
  bad "first call: '$out'; service $(systemctl is-active clawjail.service); $(journalctl -u clawjail.service --no-pager | tail -20)"
fi
enabled=$(cat "$svc/cgroup.subtree_control" 2>/dev/null)
main_pid=$(systemctl show -p MainPID --value clawjail.service)
if [[ " $enabled " == *" memory "* && " $enabled " == *" pids "* && " $enabled " == *" cpu "* ]] &&
   grep -qx "$main_pid" "$svc/supervisor/cgroup.procs" && [ -z "$(cat "$svc/cgroup.procs")" ]; then
  ok "delegated subtree claimed: subtree_control '$enabled', supervisor $main_pid in supervisor/"
else
  bad "delegated subtree: subtree_control '$enabled'; supervisor/ holds '$(cat "$svc/supervisor/cgroup.procs" 2>&1)'; $svc holds '$(cat "$svc/cgroup.procs")'"
fi
log=$(journalctl -u clawjail.service --no-pager -o cat)
if grep -q "jail limits: cgroup v2, delegated subtree $svc (memory.max, pids.max, cpu.max)" <<<"$log" &&
   ! grep -qiE 'cgroup v1|rlimits alone' <<<"$log"; then
  ok "no v1 fallback: the supervisor logged its cgroup v2 subtree"
else
  bad "start-up log: $(grep -i 'jail limits' <<<"$log")"
fi

# ---- a running jail's own cgroup has the WPC's limits ----
call /bin/sh -c 'sleep 5; : vm-limits' &
pid=$!
d=$(jail_of vm-limits)
if [ -n "$d" ] && [ "$(cat "$d/memory.max")" = $((mem_mb * 1024 * 1024)) ] && [ "$(cat "$d/pids.max")" = "$pids" ] &&
   [ "$(cat "$d/cpu.max")" = "100000 100000" ]; then
  ok "the jail's own cgroup $(basename "$d"): memory.max $(cat "$d/memory.max"), pids.max $(cat "$d/pids.max"), cpu.max $(cat "$d/cpu.max")"
else
  bad "jail cgroup '$d': memory.max $(cat "$d/memory.max" 2>&1) pids.max $(cat "$d/pids.max" 2>&1) cpu.max $(cat "$d/cpu.max" 2>&1); dirs: $(jail_dirs)"
fi
wait "$pid"

# ---- a memory hog is killed by memory.max ----
call /usr/bin/awk 'BEGIN { s = "x"; while (1) s = s s }' 2>/tmp/hog.err
rc=$?
res=$(last_result)
if [ "$rc" = 137 ] && [ "${res%% *}" = limit ]; then
  ok "memory hog killed at memory.max: exit $rc, receipt '$res', client: $(cat /tmp/hog.err)"
else
  bad "memory hog: exit $rc, receipt '$res', client: $(cat /tmp/hog.err)"
fi

# ---- a fork bomb stops at pids.max ----
# perl, not a shell: a shell gives up after some refused forks and exits on its own; this one
# keeps trying until the WPC's timeout kills the tree.
call /usr/bin/perl -e 'while (1) { my $p = fork; if (defined $p && !$p) { sleep 60; exit } select(undef, undef, undef, 0.01) } # vm-bomb' 2>/tmp/bomb.err &
pid=$!
d=$(jail_of vm-bomb)
# The bomb runs until the WPC's timeout: read its cgroup once the limit has refused a fork.
current= events=
for _ in $(seq 100); do
  events=$(cat "$d/pids.events" 2>/dev/null) current=$(cat "$d/pids.current" 2>/dev/null)
  [[ "$events" == *"max "[1-9]* ]] && break
  sleep 0.05
done
wait "$pid"
rc=$?
res=$(last_result)
if [ "${current:-999}" -le "$pids" ] && [[ "$events" == *"max "[1-9]* ]] && [ "${res%% *}" = limit ] && [ "$rc" = 137 ]; then
  ok "fork bomb held at pids.max: pids.current $current <= $pids, pids.events '$events', exit $rc, receipt '$res'"
else
  bad "fork bomb: pids.current '$current', pids.events '$events', exit $rc, receipt '$res', client: $(cat /tmp/bomb.err)"
fi

# ---- a CPU spinner is throttled to cpu.max (one CPU of the VM's two) ----
call /bin/sh -c 'for i in 1 2 3; do (while :; do :; done) & done; sleep 12; kill 0; : vm-spin' 2>/dev/null &
pid=$!
d=$(jail_of vm-spin)
sleep 1
u1=$(awk '/^usage_usec/{print $2}' "$d/cpu.stat") w1=$(date +%s%N)
sleep 2
u2=$(awk '/^usage_usec/{print $2}' "$d/cpu.stat") w2=$(date +%s%N)
throttled=$(awk '/^nr_throttled/{print $2}' "$d/cpu.stat")
wait "$pid"
ratio=$(awk -v u=$((u2 - u1)) -v w=$(((w2 - w1) / 1000)) 'BEGIN { printf "%.2f", u / w }')
# Measured at all (the spinners ran while sampled: more than 0.05) and held to one CPU.
if [ -n "$u1" ] && [ -n "$u2" ] && awk -v r="$ratio" 'BEGIN { exit !(r > 0.05 && r <= 1.10) }' &&
   [ "${throttled:-0}" -gt 0 ]; then
  ok "CPU spinner throttled: $ratio CPU-seconds per second with 3 spinners on 2 CPUs, nr_throttled $throttled"
else
  bad "CPU spinner: ratio $ratio (usage_usec '$u1' -> '$u2'), nr_throttled '$throttled', cgroup '$d'"
fi

# ---- the jails' cgroups after the calls ----
# An ordinary call's cgroup is kept as an empty spare for the next jail with the same limits (at
# most 16); those that hit a limit are removed. Jails built ahead of their next call wait in their
# own cgroups: their only process is the jail's init, a child of the supervisor (a call's processes
# are the init's children). Nothing a call started may be left. Stopping the service removes the rest.
left=$(jail_dirs)
stray=$(for d in $left; do
  for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
    [ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = "$main_pid" ] || echo "$d: $(tr '\0' ' ' <"/proc/$p/cmdline")"
  done
done)
if [ -z "$stray" ] && [ "$(wc -w <<<"$left")" -le 20 ]; then
  ok "after the calls: $(wc -w <<<"$left") jail cgroup(s) left (spares and jails built ahead), no process of a call in them"
else
  bad "after the calls: $(wc -w <<<"$left") jail cgroups: $left; left behind: $stray"
fi
audit=$(clawjail audit --config /etc/clawjail/config.json 2>&1)
if grep -q '^info host.cgroup_v2_service' <<<"$audit" && ! grep -q 'host.cgroup_v2_delegation' <<<"$audit"; then
  ok "audit: the service's subtree is in use"
else
  bad "audit: $(grep host. <<<"$audit")"
fi
systemctl stop clawjail.service
if [ ! -d "$svc" ] || [ -z "$(jail_dirs)" ]; then ok "service stopped: no jail cgroup left"; else bad "after stop: $(jail_dirs)"; fi

# ---- pure cgroup v2 without delegation: clawjail serve by hand as root ----
# This script's cgroup (a unit without Delegate=) is what a root shell has: not handed over.
manual=/root/manual.json
sed 's|"socket": "[^"]*"|"socket": "/run/clawjail-manual.sock"|' /etc/clawjail/config.json >"$manual"
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
clawjail serve --config "$manual" 2>/tmp/manual.err &
serve=$!
for _ in $(seq 100); do [ -S /run/clawjail-manual.sock ] && break; sleep 0.1; done
mcall() { timeout 300 runuser -u agent -- clawjail run --socket /run/clawjail-manual.sock --job vm-job --cst-file "$cst" --workspace "$ws" -- "$@"; }
if grep -q 'clawjail: warning: jail limits: rlimits alone, no cgroup (.* was not delegated' /tmp/manual.err; then
  ok "no delegation: loud warning on stderr: $(head -c 160 /tmp/manual.err)…"
else
  bad "no delegation: stderr: $(cat /tmp/manual.err)"
fi
out=$(mcall /bin/echo hello 2>&1)
serve_cg=$(sed -n 's/^0:://p' /proc/$serve/cgroup)
[ "$out" = hello ] && [ "$serve_cg" = "$own" ] && [ ! -e "/sys/fs/cgroup$own/supervisor" ] &&
  ok "no delegation: calls run; the supervisor stayed in $own and made no cgroup there" ||
  bad "no delegation: call '$out'; supervisor in '$serve_cg' (was '$own'); $(ls /sys/fs/cgroup$own)"
mcall /usr/bin/awk 'BEGIN { s = "x"; while (1) s = s s }' 2>/dev/null
rc=$?
res=$(last_result)
[ "$rc" != 0 ] && [ "${res%% *}" = error ] &&
  ok "no delegation: the memory hog is contained by RLIMIT_DATA (exit $rc, receipt '$res')" ||
  bad "no delegation: memory hog exit $rc, receipt '$res'"
audit=$(clawjail audit --config "$manual" 2>&1)
grep -q '^warn host.cgroup_v2_delegation' <<<"$audit" &&
  ok "no delegation: audit warns: $(grep host.cgroup_v2_delegation <<<"$audit")" ||
  bad "no delegation: audit: $(grep host. <<<"$audit")"
kill "$serve"
wait "$serve"
echo "guest: done at uptime $(t)s, $failures failure(s)"
exit "$failures"
