#!/bin/bash
# Runs inside the Debian 12 container that tests/hosts/nspawn_test.sh boots, as root, with the
# package at /srv/in/clawjail.deb. It sets the host up the way docs/operations.md and
# docs/openclaw.md tell an operator to, then checks the package as shipped: install, socket
# activation, Type=notify, reload, drain, the journal, the audit, jails under the shipped unit
# with every hardening directive in force, workspaces where OpenClaw puts them, the CST renewal
# timer, remove and purge.
# Everything under test runs as a unit of this system's systemd: the supervisor as
# clawjail.service, each client call and admin command through systemd-run. This shell only
# prepares files and looks at the results.
# Each check prints "ok   NAME" or "FAIL NAME" with what it saw; the exit status counts failures.
set -uo pipefail
export LC_ALL=C.UTF-8 SYSTEMD_PAGER='' SYSTEMD_COLORS=0
t=/root/t             # the operator's own files: keys, policies
job=job-hosts
alice_home=/home/alice
alice_ws=$alice_home/.openclaw/workspace   # OpenClaw's default workspace of a gateway user
root_ws=/root/.openclaw/workspace          # ... and of a gateway running as root
cst=$alice_home/.openclaw/$job.cst
failures=0

# ---- plumbing ----
die() { echo "$*"; exit 1; }
# step NAME FUNCTION: runs the check in a subshell (a failed check stops only itself).
step() {
  local name=$1 out rc=0
  shift
  out=$( ("$@") 2>&1) || rc=$?
  if [ $rc = 0 ]; then
    echo "ok   $name"
  else
    echo "FAIL $name"
    sed 's/^/     | /' <<<"$out" | tail -40
    failures=$((failures + 1))
  fi
}
# The client as the gateway user (not root, in the clawjail group) and as a root gateway: each a
# transient unit, so that it runs with exactly the credentials and cgroup systemd gives it.
as_alice() { systemd-run --quiet --wait --pipe --collect --uid=alice --gid=alice -p SupplementaryGroups=clawjail \
               -p WorkingDirectory="$alice_home" -- "$@"; }
as_root() { systemd-run --quiet --wait --pipe --collect -p WorkingDirectory=/root -- "$@"; }
call_flags() { echo --job "$job" --cst-file "$cst"; }
alice_run() { as_alice /usr/bin/clawjail run $(call_flags) --workspace "$alice_ws" "$@" </dev/null; }
alice_fs() { as_alice /usr/bin/clawjail fs $(call_flags) --workspace "$alice_ws" "$@"; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || die "$1: got '$2', want '$3'"; }
expect_in() { grep -qF -- "$3" <<<"$2" || die "$1: '$3' not in: $2"; }
main_pid() { systemctl show -p MainPID --value clawjail.service; }
# Waits up to 5 s for a journal entry matching the given fields/grep.
journal_has() {  # journal_has PATTERN journalctl-args…
  local pattern=$1
  shift
  for _ in $(seq 50); do
    journalctl --no-pager -o cat "$@" 2>/dev/null | grep -E -- "$pattern" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}
set_config() {  # set_config KEY JSON-VALUE: the edit an operator makes by hand
  sed -i -E "s|\"$1\": [^,]*(,?)$|\"$1\": $2\1|" /etc/clawjail/config.json
  grep -qF "\"$1\": $2" /etc/clawjail/config.json || die "could not set $1 in /etc/clawjail/config.json"
}

# ---- 1. install ----
check_install() {
  out=$(dpkg -i /srv/in/clawjail.deb 2>&1) || die "dpkg -i failed: $out"
  expect_in "postinst" "$out" "created the supervisor's signing key"
  getent group clawjail >/dev/null || die "sysusers: no clawjail group"
  expect_eq "/var/lib/clawjail" "$(stat -c '%U:%G %a' /var/lib/clawjail)" "root:root 700"
  expect_eq "keys/" "$(stat -c '%U:%G %a' /var/lib/clawjail/keys)" "root:root 700"
  expect_eq "supervisor.key" "$(stat -c '%U:%G %a' /var/lib/clawjail/keys/supervisor.key)" "root:root 600"
  expect_eq "/etc/clawjail/config.json" "$(stat -c '%U:%G %a' /etc/clawjail/config.json)" "root:root 644"
}

check_socket_enabled() {
  systemctl enable --now clawjail.socket || die "systemctl enable --now clawjail.socket failed"
  expect_eq "socket enabled" "$(systemctl is-enabled clawjail.socket)" enabled
  expect_eq "socket active" "$(systemctl is-active clawjail.socket)" active
  expect_eq "socket file" "$(stat -c '%F %U:%G %a' /run/clawjail/clawjail.sock)" "socket root:clawjail 660"
  ss -xlnH | grep -F /run/clawjail/clawjail.sock >/dev/null || die "nothing listens on /run/clawjail/clawjail.sock: $(ss -xln)"
  expect_eq "service before the first call" "$(systemctl is-active clawjail.service)" inactive
}

# ---- the operator's setup, as the docs say ----
setup_trust() {
  mkdir -p "$t" && chmod 700 "$t"
  grep -q localhost /etc/hosts 2>/dev/null || echo '127.0.0.1 localhost' >>/etc/hosts
  useradd -m -s /bin/bash alice
  chmod 700 "$alice_home"
  usermod -aG clawjail alice
  for who in signer issuer agent; do
    clawjail keygen --out "$t" --name $who >"$t/$who.did" || die "keygen $who"
  done
  set_config wpc_signers "[\"$(cat "$t/signer.did")\"]"
  set_config cst_issuers "[ { \"kid\": \"issuer-1\", \"did\": \"$(cat "$t/issuer.did")\" } ]"
  sed -i -E "s|\"clients\": \{ \"uids\": \[\], \"gids\": \[\] \}|\"clients\": { \"uids\": [$(id -u alice)], \"gids\": [] }|" \
    /etc/clawjail/config.json
  grep -q "\"uids\": \[$(id -u alice)\]" /etc/clawjail/config.json || die "could not set clients.uids"
  # The main policy: exec, file tools, a writable workspace, one approved host on loopback.
  wpc "$t/main.json" hosts-main '"exec","read","write:workspace","http:approved_hosts"' '"docker_socket"' \
    ', "network": { "approved_hosts": ["localhost:8080"] }'
  # Another policy, only so that a pin can name something else.
  wpc "$t/other.json" hosts-other '"read"' '"exec"' ''
  for p in main other; do
    clawjail wpc sign --key "$t/signer.key" "$t/$p.json" >"$t/$p.wpc.json" || die "wpc sign $p"
    as_root clawjail wpc install --config /etc/clawjail/config.json "$t/$p.wpc.json" >/dev/null || die "wpc install $p"
    clawjail wpc hash "$t/$p.wpc.json" >"$t/$p.hash"
  done
  # docs/openclaw.md: the job's CST in the gateway user's own ~/.openclaw, 0600.
  mkdir -p "$alice_ws" "$root_ws" /srv/www
  clawjail cst issue --key "$t/issuer.key" --kid issuer-1 --sub "$(cat "$t/agent.did")" --job $job \
    --scope clawjail:call --policy "$(cat "$t/main.hash")" --ttl 3600 >"$cst.tmp" || die "cst issue"
  mv "$cst.tmp" "$cst"
  chown -R alice: "$alice_home/.openclaw"
  chmod 0600 "$cst"
  echo hello-from-the-host >/srv/www/hello.txt
}
wpc() {  # wpc FILE ID ALLOW DENY SANDBOX-EXTRA
  cat >"$1" <<JSON
{ "wpc_version": "v1", "policy_id": "$2", "issuer_did": "$(cat "$t/signer.did")",
  "tools": { "allow": [$3], "deny": [$4] },
  "tokens": { "require_cst": true, "pin_wpc_hash": true },
  "sandbox": { "workspace_access": "rw"$5 } }
JSON
}

check_wpc_store_modes() {
  local f bad=''
  for f in /var/lib/clawjail/policies/*; do
    [ "$(stat -c '%U %a' "$f")" = "root 600" ] || bad+=" $f:$(stat -c '%U:%a' "$f")"
  done
  [ -z "$bad" ] || die "installed WPC files are not root 0600 (docs/operations.md §6):$bad"
}

# ---- 2. activation ----
check_activation() {
  out=$(alice_run -- sh -c 'echo first-call; id -u') || die "first call as alice failed: $out"
  expect_in "first call" "$out" first-call
  expect_eq "service after the first call" "$(systemctl is-active clawjail.service)" active
  expect_eq "SubState" "$(systemctl show -p SubState --value clawjail.service)" running
  expect_eq "Type" "$(systemctl show -p Type --value clawjail.service)" notify
  expect_eq "NRestarts" "$(systemctl show -p NRestarts --value clawjail.service)" 0
  journal_has 'clawjail supervisor listening' -u clawjail.service || die "no 'listening' line from the service"
}

# The supervisor runs as the unit says: its bounding set is exactly the unit's, no_new_privs,
# seccomp, a read-only /usr, a private /tmp, in its own cgroup.
check_directives_in_force() {
  local pid want got
  pid=$(main_pid)
  [ "$pid" -gt 0 ] || die "no main pid"
  want=$(cap_mask $(sed -n 's/^CapabilityBoundingSet=//p' /usr/lib/systemd/system/clawjail.service))
  got=$(awk '/^CapBnd:/ {print $2}' /proc/$pid/status)
  expect_eq "CapBnd of the supervisor" "$((16#$got))" "$want"
  expect_eq "NoNewPrivs" "$(awk '/^NoNewPrivs:/ {print $2}' /proc/$pid/status)" 1
  expect_eq "Seccomp" "$(awk '/^Seccomp:/ {print $2}' /proc/$pid/status)" 2
  expect_in "cgroup" "$(cat /proc/$pid/cgroup)" /system.slice/clawjail.service
  findmnt -N "$pid" -no OPTIONS -T /usr | grep -qw ro || die "/usr is writable for the supervisor: $(findmnt -N "$pid" -T /usr)"
  [ "$(stat -Lc %i /proc/$pid/root/tmp)" != "$(stat -c %i /tmp)" ] || die "the supervisor's /tmp is the host's"
}
cap_mask() {  # cap_mask CAP_X…: the bitmask, by the numbers of linux/capability.h
  local -A num=([CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_DAC_READ_SEARCH]=2 [CAP_FOWNER]=3 [CAP_FSETID]=4
    [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7 [CAP_SETPCAP]=8 [CAP_NET_BIND_SERVICE]=10 [CAP_NET_ADMIN]=12
    [CAP_NET_RAW]=13 [CAP_SYS_CHROOT]=18 [CAP_SYS_PTRACE]=19 [CAP_SYS_ADMIN]=21 [CAP_SYS_RESOURCE]=24 [CAP_MKNOD]=27)
  local mask=0 c
  for c in "$@"; do
    [ -n "${num[$c]:-}" ] || die "cap_mask: unknown $c"
    mask=$((mask | (1 << ${num[$c]})))
  done
  echo $mask
}

# ---- jails under the shipped unit ----
check_exec_home_workspace() {
  out=$(alice_run -- sh -c 'echo from-exec >/workspace/from-exec.txt; pwd; uname -n; echo to-stderr >/dev/stderr' 2>&1) ||
    die "exec in $alice_ws failed: $out"
  expect_in "cwd" "$out" /workspace
  expect_in "the jail's own hostname" "$out" clawjail
  expect_in "output reopened through /dev/stderr" "$out" to-stderr
  expect_eq "file the jail wrote" "$(cat "$alice_ws/from-exec.txt")" from-exec
  # The idmapped workspace: what the jail writes belongs to the workspace's owner on the host.
  expect_eq "its owner on the host" "$(stat -c %U:%G "$alice_ws/from-exec.txt")" alice:alice
}

check_fs_after_exec() {
  out=$(alice_fs read from-exec.txt </dev/null) || die "fs read after an exec call: $out"
  expect_eq "fs read" "$out" from-exec
  out=$(echo from-fs | alice_fs write from-fs.txt) || die "fs write: $out"
  expect_eq "fs write on the host" "$(cat "$alice_ws/from-fs.txt")" from-fs
  expect_eq "its owner" "$(stat -c %U:%G "$alice_ws/from-fs.txt")" alice:alice
  out=$(alice_fs ls . </dev/null) || die "fs ls: $out"
  expect_in "fs ls" "$out" from-exec.txt
  out=$(alice_run -- cat /workspace/from-fs.txt) || die "exec after fs: $out"
  expect_eq "exec reads what fs wrote" "$out" from-fs
}

check_pty() {
  out=$(alice_run --pty -- sh -c 'tty; test -t 0 && test -t 1 && echo stdin-and-stdout-are-a-tty') ||
    die "run --pty failed: $out"
  expect_in "tty" "$out" /dev/pts/
  expect_in "isatty" "$out" stdin-and-stdout-are-a-tty
}

check_egress() {
  systemd-run --quiet --unit=hosts-httpd --collect -p DynamicUser=yes \
    busybox httpd -f -p 127.0.0.1:8080 -h /srv/www || die "cannot start the test HTTP server"
  for _ in $(seq 50); do ss -tlnH | grep -q 127.0.0.1:8080 && break; sleep 0.1; done
  out=$(alice_run -- busybox wget -q -O- http://localhost:8080/hello.txt) || die "approved host through the proxy: $out"
  expect_eq "approved host" "$out" hello-from-the-host
  # Straight to the proxy: a port and an address that are not approved are answered 403.
  out=$(alice_run -- sh -c 'printf "CONNECT localhost:8081 HTTP/1.1\r\n\r\n" | busybox nc 127.0.0.1 3128' 2>&1)
  expect_in "a port not approved" "$out" "403"
  out=$(alice_run -- sh -c 'printf "GET http://127.0.0.1:8080/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" | busybox nc 127.0.0.1 3128' 2>&1)
  expect_in "the host's loopback by address" "$out" "403"
  ! grep -q hello-from-the-host <<<"$out" || die "the host's loopback was reached by address: $out"
  systemctl stop hosts-httpd
}

check_root_workspace() {
  local flags=(--job $job --cst-file "$cst" --workspace "$root_ws")
  out=$(as_root clawjail run "${flags[@]}" -- sh -c 'echo from-root-gateway >/workspace/r.txt; id -u' </dev/null) ||
    die "exec in $root_ws failed: $out"
  expect_eq "file in the root workspace" "$(cat "$root_ws/r.txt")" from-root-gateway
  expect_eq "its owner" "$(stat -c %U "$root_ws/r.txt")" root
  out=$(as_root clawjail fs "${flags[@]}" read r.txt </dev/null) || die "fs read in $root_ws: $out"
  expect_eq "fs read" "$out" from-root-gateway
  out=$(as_root clawjail run "${flags[@]}" --pty -- tty </dev/null) || die "run --pty in $root_ws: $out"
  expect_in "pty in the root workspace" "$out" /dev/pts/
}

# /tmp is private to the service (PrivateTmp=yes): a workspace there is refused at the call with
# the reason, and the refusal has its blocked receipt.
check_tmp_workspace() {
  local ws rc=0
  ws=$(as_alice mktemp -d /tmp/ws-XXXXXX) || die "mktemp as alice"
  out=$(as_alice clawjail run $(call_flags) --workspace "$ws" -- true </dev/null 2>&1) || rc=$?
  expect_eq "exit status of a call with a /tmp workspace" "$rc" 126
  expect_in "reason" "$out" WORKSPACE_INVALID
  expect_in "why" "$out" PrivateTmp
  journal_has "WORKSPACE_INVALID" SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked CLAWJAIL_JOB=$job \
    -o 'cat' --output-fields=CLAWJAIL_REASON || die "no blocked receipt for the /tmp workspace in the journal"
}

# Outside ReadWritePaths= the service sees the root filesystem read-only: an rw workspace there
# is refused at the call, with the directive to change.
check_readonly_workspace() {
  local rc=0
  mkdir -p /mnt/openclaw-ws
  out=$(as_root clawjail run --job $job --cst-file "$cst" --workspace /mnt/openclaw-ws -- true </dev/null 2>&1) || rc=$?
  expect_eq "exit status" "$rc" 126
  expect_in "reason" "$out" WORKSPACE_INVALID
  expect_in "why" "$out" ReadWritePaths
}

# ---- reload: a pin takes effect without a restart ----
check_reload() {
  local pid rc=0
  pid=$(main_pid)
  set_config pinned_wpc_hashes "[\"$(cat "$t/other.hash")\"]"
  systemctl reload clawjail.service || die "systemctl reload failed"
  journal_has 'SIGHUP: configuration, WPC store and revocations reloaded' -u clawjail.service ||
    die "the service did not say it reloaded"
  expect_eq "main pid after reload" "$(main_pid)" "$pid"
  out=$(alice_run -- true 2>&1) || rc=$?
  expect_eq "exit of a call whose WPC is not pinned" "$rc" 126
  expect_in "reason" "$out" WPC_NOT_PINNED
  set_config pinned_wpc_hashes "[\"$(cat "$t/main.hash")\"]"
  systemctl reload clawjail.service || die "second reload failed"
  for _ in $(seq 50); do out=$(alice_run -- echo pinned-ok 2>&1) && break; sleep 0.1; done
  expect_eq "call under the pinned WPC" "$out" pinned-ok
}

check_journal_blocked() {
  journal_has "WPC_NOT_PINNED" SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked CLAWJAIL_JOB=$job \
    --output-fields=CLAWJAIL_REASON || die "journalctl SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked: nothing"
  journalctl --no-pager --all -o json SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked | grep '"CLAWJAIL_RECEIPT":' >/dev/null ||
    die "the blocked entry carries no signed receipt"
}

check_audit() {
  out=$(as_root clawjail audit 2>&1) || die "clawjail audit exited non-zero: $out"
  ! grep -q '^critical' <<<"$out" || die "critical findings: $out"
  # alice got the subordinate ids useradd gives the first user; the jails' range stays clear of them.
  grep -q "^alice:100000:65536" /etc/subuid || die "useradd gave alice no subordinate ids: $(cat /etc/subuid)"
  ! grep -q 'jail.uid_range_overlaps' <<<"$out" || die "the default uid_range overlaps: $out"
}

# ---- stop drains: a running call finishes, with its receipt, before the service stops ----
check_stop_drains() {
  local bg=$t/drain.out
  alice_run -- sh -c 'sleep 2.5; echo drained' >"$bg" 2>&1 &
  local client=$!
  for _ in $(seq 50); do pgrep -f '^sleep 2.5$' >/dev/null && break; sleep 0.1; done
  pgrep -f '^sleep 2.5$' >/dev/null || die "the call did not start: $(cat "$bg")"
  systemctl stop clawjail.service || die "systemctl stop failed"
  wait $client || die "the call in flight failed during stop: $(cat "$bg")"
  expect_eq "the call in flight" "$(cat "$bg")" drained
  expect_eq "service after stop" "$(systemctl is-active clawjail.service)" inactive
  expect_eq "socket after stop" "$(systemctl is-active clawjail.socket)" active
  out=$(alice_run -- echo reactivated) || die "a call after the stop: $out"
  expect_eq "the next call starts it again" "$out" reactivated
}

# Why the unit leaves ProtectHostname off (docs/operations.md): with it, its seccomp filter is
# inherited by every jail, whose sethostname of its own UTS namespace then fails.
check_protect_hostname_breaks_jails() {
  local dropin=/run/systemd/system/clawjail.service.d rc=0
  mkdir -p $dropin
  printf '[Service]\nProtectHostname=yes\n' >$dropin/hostname.conf
  systemctl daemon-reload && systemctl stop clawjail.service
  out=$(alice_run -- true 2>&1) || rc=$?
  rm -rf $dropin
  systemctl daemon-reload && systemctl stop clawjail.service
  expect_eq "exit of a call under ProtectHostname=yes" "$rc" 125
  expect_in "why" "$out" "JAIL_SETUP_FAILED: hostname"
  out=$(alice_run -- uname -n) || die "a call under the shipped unit again: $out"
  expect_eq "the jail's hostname" "$out" clawjail
}

# ---- remove and purge, as docs/operations.md §1 says ----
# ---- tokens that renew (docs/openclaw.md): the shipped timer, from the shipped example ----
renewal() { echo "clawjail-cst@$job.$1"; }
check_cst_timer() {
  local before out conf=/etc/clawjail/cst/$job.conf
  cp /usr/share/doc/clawjail/examples/cst-renew.conf "$conf" || die "no example job file in the package"
  sed -i -E "s|^CLAWJAIL_CST_KEY=.*|CLAWJAIL_CST_KEY=$t/issuer.key|; s|^CLAWJAIL_CST_SUB=.*|CLAWJAIL_CST_SUB=$(cat "$t/agent.did")|
             s|^CLAWJAIL_CST_POLICY=.*|CLAWJAIL_CST_POLICY=$(cat "$t/main.hash")|; s|^CLAWJAIL_CST_OUT=.*|CLAWJAIL_CST_OUT=$cst|
             s|^CLAWJAIL_CST_OWNER=.*|CLAWJAIL_CST_OWNER=alice|" "$conf"
  chmod 0640 "$cst"  # the operator's choice of mode: kept
  before=$(sha256sum <"$cst")
  systemctl enable --now "$(renewal timer)" || die "systemctl enable --now $(renewal timer) failed"
  for _ in $(seq 100); do [ "$(sha256sum <"$cst")" != "$before" ] && break; sleep 0.1; done
  [ "$(sha256sum <"$cst")" != "$before" ] || die "the timer did not renew at start: $(systemctl status "$(renewal service)" 2>&1)"
  expect_eq "renewed file" "$(stat -c '%U:%G %a' "$cst")" "alice:alice 640"
  expect_eq "renewal result" "$(systemctl show -p Result --value "$(renewal service)")" success
  journal_has "^wrote $cst: a CST for job $job, expires " -u "$(renewal service)" || die "no 'wrote' line in the journal"
  ! journalctl --no-pager -o cat -u "$(renewal service)" | grep -qF "$(cut -d. -f3 "$cst")" || die "the token is in the journal"
  out=$(alice_run /bin/echo renewed) || die "a call with the renewed token: $out"
  expect_eq "a call with the renewed token" "$out" renewed
  expect_eq "renewal timer" "$(systemctl is-active "$(renewal timer)")" active
  [ -n "$(systemctl show -p NextElapseUSecRealtime --value "$(renewal timer)")" ] ||
    die "the timer has no next renewal: $(systemctl show "$(renewal timer)" | grep -i elapse)"
  # A renewal that fails shows in systemctl status and leaves the token as it was.
  before=$(sha256sum <"$cst")
  sed -i "s|^CLAWJAIL_CST_KEY=.*|CLAWJAIL_CST_KEY=$t/missing.key|" "$conf"
  ! systemctl start "$(renewal service)" 2>/dev/null || die "a renewal with a missing key succeeded"
  expect_eq "failed renewal" "$(systemctl is-failed "$(renewal service)")" failed
  out=$(systemctl status --no-pager -n 20 "$(renewal service)" 2>&1)
  expect_in "systemctl status after a failed renewal" "$out" "clawjail: cst issue: KEY_MISSING"
  expect_eq "token after a failed renewal" "$(sha256sum <"$cst")" "$before"
  sed -i "s|^CLAWJAIL_CST_KEY=.*|CLAWJAIL_CST_KEY=$t/issuer.key|" "$conf"
  systemctl start "$(renewal service)" || die "the renewal after the fix failed"
}

check_remove() {
  apt-get remove -y -qq clawjail >/dev/null 2>&1 || die "apt remove failed"
  [ ! -e /usr/bin/clawjail ] || die "binary left after remove"
  [ -e /etc/clawjail/config.json ] || die "remove deleted the conffile"
  expect_eq "service after remove" "$(systemctl is-active clawjail.service)" inactive
  expect_eq "socket after remove" "$(systemctl is-active clawjail.socket)" inactive
  [ ! -e /run/clawjail/clawjail.sock ] || die "the socket is left after remove"
  expect_eq "renewal timer after remove" "$(systemctl is-active "$(renewal timer)")" inactive
  [ ! -L "/etc/systemd/system/timers.target.wants/$(renewal timer)" ] || die "the renewal timer is still enabled"
}

check_purge() {
  out=$(dpkg --purge clawjail 2>&1) || die "dpkg --purge failed: $out"
  # Only the operator's own job file stays (docs/operations.md).
  expect_eq "left in /etc/clawjail after purge" "$(find /etc/clawjail ! -type d 2>&1)" "/etc/clawjail/cst/$job.conf"
  [ -e /var/lib/clawjail/keys/supervisor.key ] || die "purge deleted the key that verifies old receipts"
  expect_in "purge says it kept the state" "$out" "kept /var/lib/clawjail"
}

step "dpkg -i: sysusers, tmpfiles, key" check_install
step "clawjail.socket enabled and listening, service inactive" check_socket_enabled
step "operator setup: keys, config, WPCs, the job's CST" setup_trust
step "installed WPC files are root 0600" check_wpc_store_modes
step "a call from a clawjail-group user activates the service (Type=notify, running)" check_activation
step "the unit's hardening is in force in the running supervisor" check_directives_in_force
step "exec in ~/.openclaw/workspace (idmapped, 0700 home)" check_exec_home_workspace
step "file tools after an exec call" check_fs_after_exec
step "run --pty" check_pty
step "clawjail-cst@JOB.timer renews the token, keeps owner and mode; a failed renewal shows" check_cst_timer
step "egress proxy: approved host on loopback, others refused" check_egress
step "a root gateway's workspace (/root/.openclaw/workspace)" check_root_workspace
step "a /tmp workspace is refused with its reason and a blocked receipt" check_tmp_workspace
step "an rw workspace outside ReadWritePaths= is refused with its reason" check_readonly_workspace
step "systemctl reload re-reads the config (pin)" check_reload
step "journalctl SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked" check_journal_blocked
step "clawjail audit: no critical finding" check_audit
step "systemctl stop drains the call in flight" check_stop_drains
step "ProtectHostname=yes (a drop-in) breaks every jail: why the unit leaves it off" check_protect_hostname_breaks_jails
step "apt remove" check_remove
step "dpkg --purge" check_purge

if [ $failures != 0 ]; then
  echo "---- journal of clawjail.service (last 40 lines) ----"
  journalctl --no-pager -u clawjail.service -n 40 -o short-monotonic
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
