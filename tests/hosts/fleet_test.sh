#!/usr/bin/env bash
# Evidence off the host, as docs/operations.md "Shipping receipts off the host" sets it up: three
# Debian 12 hosts under a real systemd (systemd-nspawn), each with the package installed and its
# own configuration, keys and state, ship their journal with systemd-journal-upload to a fourth
# container, the collector, running systemd-journal-remote. Each host makes real calls through
# the shipped socket (allowed and blocked); on the collector, `journalctl -D
# /var/log/journal/remote CLAWJAIL_DECISION=blocked` lists the blocked calls of all three,
# told apart by _HOSTNAME; every receipt in it verifies with `clawjail receipts verify` against
# its host's supervisor key, while an entry forged in a host's name (the collector takes uploads
# from anyone who reaches it) and an edited field do not; and a bundle exported on one host
# verifies on the collector, which has no clawjail configuration at all. Prints how long a
# receipt takes to reach the collector.
# The hosts share one control plane (tests/fleet/control_plane.mjs on this machine's loopback, as
# clawcontrols and clawscope answer): no host has the WPC installed, each fetches it by hash from
# the registry at its first call; a token revoked once at the feed is refused on its host within
# the feed's poll period, while the other hosts' tokens go on working.
# Upload is HTTPS with a certificate per machine from the fleet's own CA, as in production, on
# the test machine's loopback (the containers share its network namespace).
# usage: fleet_test.sh SOURCE_DIR BUILD_DIR   (CLAWJAIL_DEB, CLAWJAIL_TESTS_CACHE as nspawn_test.sh)
set -euo pipefail
src=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (systemd-nspawn, mmdebstrap)"; exit 77; }
. "$here/nspawn_lib.sh"
export LC_ALL=C.UTF-8 SYSTEMD_PAGER='' SYSTEMD_COLORS=0

name=cjf$$
cp_pid=''
on_cleanup() { [ -z "$cp_pid" ] || { kill -KILL "$cp_pid"; wait "$cp_pid"; } 2>/dev/null || true; }
nspawn_begin clawjail-fleet
collector=$name-collector
hosts=("$name-host1" "$name-host2" "$name-host3")
h1=${hosts[0]} h2=${hosts[1]}
remote_dir=/var/log/journal/remote   # the collector's journal of the fleet (the Debian unit's --output)
ws=/root/.openclaw/workspace          # a root gateway's workspace on each host

ensure_tools
# The operator's side: certificates, the forged upload, reading the collector's JSON.
for tool in jq curl openssl node:nodejs; do
  command -v ${tool%%:*} >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends ${tool##*:} >/dev/null ||
    fail "cannot install ${tool##*:}"
done
enter_own_cgroups

# A TCP port nothing on this machine listens on: the containers share its network namespace.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    ss -tlnH "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  fail "no free TCP port"
}
port=$(free_port)

# ---- the package, and its binary for the operator's side (keys, signing, offline checks) ----
. "$src/tests/packaging/deb_under_test.sh"
t=$(now)
deb=$(deb_under_test "$build" "$work/out") || fail "no package to test"
dpkg-deb -x "$deb" "$work/pkg"
echo "package: $(basename "$deb") ($(since "$t") s)"
cj=$work/pkg/usr/bin/clawjail
"$cj" --version >/dev/null || fail "the packaged clawjail does not run on this machine"
rootfs_image "$deb" systemd-journal-remote
echo "time: to the root filesystem $(since "$t_start") s"

# ---- the team's keys and policy, made on the operator's machine (this one) ----
team=$work/team
mkdir -p "$team"
for who in signer issuer agent stranger; do
  "$cj" keygen --out "$team" --name $who >"$team/$who.did" || fail "keygen $who"
done
# exec and reading the workspace; writing it is refused (a blocked call of a denied tool).
cat >"$team/policy.json" <<JSON
{ "wpc_version": "v1", "policy_id": "fleet", "issuer_did": "$(cat "$team/signer.did")",
  "tools": { "allow": ["exec", "read"], "deny": ["write"] },
  "tokens": { "require_cst": true, "pin_wpc_hash": true },
  "sandbox": { "workspace_access": "ro" } }
JSON
"$cj" wpc sign --key "$team/signer.key" "$team/policy.json" >"$team/policy.wpc.json" || fail "wpc sign"
policy_hash=$("$cj" wpc hash "$team/policy.wpc.json")
job_of() { echo "fleet-$1"; }
cst_for() {  # cst_for JOB KEY: a CST of the job signed with KEY under the issuer's kid
  "$cj" cst issue --key "$2" --kid issuer-1 --sub "$(cat "$team/agent.did")" --job "$1" \
    --scope clawjail:call --policy "$policy_hash" --ttl 3600
}

# ---- the control plane: the team publishes its WPC once, in the registry ----
feed_token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
coproc CP { exec node "$src/tests/fleet/control_plane.mjs" --feed-token "$feed_token"; }
cp_pid=$CP_PID
read -r -t 20 cp_hello <&"${CP[0]}" || fail "the control plane did not start"
cp_base=http://127.0.0.1:$(jq -r .port <<<"$cp_hello")
cp_cmd() {  # cp_cmd JSON: one command, its answer (must say ok)
  local answer
  printf '%s\n' "$1" >&"${CP[1]}"
  read -r -t 10 answer <&"${CP[0]}" || fail "the control plane did not answer $1"
  [ "$(jq -r .ok <<<"$answer")" = true ] || fail "control plane: $1: $answer"
}
cp_cmd "$(jq -c '{cmd: "publish_wpc", envelope: .}' "$team/policy.wpc.json")"
echo "$feed_token" >"$team/feed.token"
echo "control plane: $cp_base (registry and revocation feed), the WPC published once"

# host_config: a host's /etc/clawjail/config.json, the packaged one with the fleet's trust. Every
# host's configuration comes from here: the fleet's shared settings are added in this one place.
host_config() {
  jq --arg signer "$(cat "$team/signer.did")" --arg issuer "$(cat "$team/issuer.did")" --arg cp "$cp_base" \
    '.wpc_signers = [$signer] | .cst_issuers = [{kid: "issuer-1", did: $issuer}]
     | .wpc_registry = $cp
     | .revocation_feed = {url: ($cp + "/v1/revocations/events"), token_file: "/etc/clawjail/feed.token",
                           poll_s: 1, max_staleness_s: 60}' \
    "$work/pkg/etc/clawjail/config.json"
}

# ---- root filesystems: overlays of the image, set up as an operator would before first boot ----
t=$(now)
rootfs_lower
declare -A root_of=()
for m in "$collector" "${hosts[@]}"; do
  overlay_root "$work/$m"
  root_of[$m]=$work/$m/root
  # mmdebstrap copies this machine's /etc/hostname: each gets its own name, as a real host has
  # (the collector tells the fleet's entries apart by it, _HOSTNAME).
  echo "$m" >"${root_of[$m]}/etc/hostname"
done
echo "time: root filesystems $(since "$t") s"

# The fleet's TLS: a CA of its own signs each machine's certificate (named by the machine, and
# 127.0.0.1, the address the hosts upload to). journal-upload sends only to a collector whose
# certificate that CA signed, and presents its own (which Debian 12's journal-remote does not check).
certs=$work/certs
mkdir -p "$certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=clawjail fleet test CA" \
  -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null || fail "openssl: the CA"
# install_tls ROOT MACHINE KEY_PATH MODE:GID: the machine's key, its certificate and the CA's.
install_tls() {
  local root=$1 m=$2 key=$3 mode=${4%%:*} gid=${4##*:}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$m" \
    -keyout "$certs/$m.key" -out "$certs/$m.csr" 2>/dev/null || fail "openssl: the key of $m"
  openssl x509 -req -in "$certs/$m.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' "$m") \
    -out "$certs/$m.pem" 2>/dev/null || fail "openssl: the certificate of $m"
  mkdir -p "$root/etc/ssl/private" "$root/etc/ssl/certs"
  install -m 0644 "$certs/ca.pem" "$root/etc/ssl/certs/clawjail-fleet-ca.pem"
  install -m 0644 "$certs/$m.pem" "$root/etc/ssl/certs/clawjail-fleet.pem"
  install -m "$mode" -o 0 -g "$gid" "$certs/$m.key" "$root$key"
}

enable_unit() {  # enable_unit ROOT UNIT TARGET: what `systemctl enable` does, before boot
  mkdir -p "$1/etc/systemd/system/$3.wants"
  ln -sf "/usr/lib/systemd/system/$2" "$1/etc/systemd/system/$3.wants/$2"
}

# The collector: systemd-journal-remote as Debian ships it (socket-activated, HTTPS), on its own
# port; its key readable by the service's user only (group systemd-journal-remote, 0640).
c=${root_of[$collector]}
mkdir -p "$c/etc/systemd/system/systemd-journal-remote.socket.d" "$c/etc/systemd/journal-remote.conf.d"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$port" \
  >"$c/etc/systemd/system/systemd-journal-remote.socket.d/fleet.conf"
install_tls "$c" "$collector" /etc/ssl/private/journal-remote.key 0640:"$(awk -F: '$1 == "systemd-journal-remote" { print $3 }' "$c/etc/group")"
printf '[Remote]\nServerKeyFile=/etc/ssl/private/journal-remote.key\nServerCertificateFile=%s\nTrustedCertificateFile=%s\n' \
  /etc/ssl/certs/clawjail-fleet.pem /etc/ssl/certs/clawjail-fleet-ca.pem >"$c/etc/systemd/journal-remote.conf.d/fleet.conf"
enable_unit "$c" systemd-journal-remote.socket sockets.target
# Its offline checks use the package's binary and nothing else: no configuration, no host's key.
mkdir -p "$c/srv/evidence"
cp -a "$work/pkg/usr" "$c/srv/clawjail"

# The hosts: the package and the job's token to install, journal-upload pointed at the collector.
for i in 1 2 3; do
  h=${root_of[${hosts[$((i - 1))]}]}
  mkdir -p "$h/srv/in" "$h/etc/systemd/journal-upload.conf.d"
  cp "$deb" "$h/srv/in/clawjail.deb"
  host_config >"$h/srv/in/config.json"
  cp "$team/feed.token" "$h/srv/in/"
  cst_for "$(job_of $i)" "$team/issuer.key" >"$h/srv/in/job.cst" || fail "cst issue"
  cst_for "$(job_of $i)" "$team/stranger.key" >"$h/srv/in/forged.cst" || fail "cst issue (forged)"
  # The upload service runs as a dynamic user: its key stays root's, handed over as a credential.
  install_tls "$h" "${hosts[$((i - 1))]}" /etc/ssl/private/journal-upload.key 0600:0
  printf '[Upload]\nURL=https://127.0.0.1:%s\nServerCertificateFile=%s\nTrustedCertificateFile=%s\n' "$port" \
    /etc/ssl/certs/clawjail-fleet.pem /etc/ssl/certs/clawjail-fleet-ca.pem >"$h/etc/systemd/journal-upload.conf.d/fleet.conf"
  mkdir -p "$h/etc/systemd/system/systemd-journal-upload.service.d"
  printf '[Service]\nLoadCredential=upload.key:%s\nExecStart=\nExecStart=/lib/systemd/systemd-journal-upload --save-state --key=%%d/upload.key\n' \
    /etc/ssl/private/journal-upload.key >"$h/etc/systemd/system/systemd-journal-upload.service.d/fleet.conf"
  enable_unit "$h" systemd-journal-upload.service multi-user.target
done

# ---- boot: the collector first (it must listen when the hosts start uploading), then the hosts
# in parallel ----
t=$(now)
boot_start "$collector" "$c"
boot_wait "$collector"
# A workspace is idmapped into each jail, which overlayfs does not support: the hosts' workspaces
# are directories of this machine's own filesystem, as on a real host.
for m in "${hosts[@]}"; do
  mkdir -p "$work/$m/workspace"
  boot_start "$m" "${root_of[$m]}" --bind="$work/$m/workspace:$ws"
done
for m in "${hosts[@]}"; do boot_wait "$m"; done
echo "time: boot x4 $(since "$t") s"
[ "$(inside "$collector" systemctl is-active systemd-journal-remote.socket)" = active ] ||
  fail "the collector's journal-remote socket is not active"

# ---- on each host: install, configure, calls ----
# as_root HOST COMMAND…: a command as a unit of the host's systemd (a root gateway's client).
as_root() { local m=$1; shift; inside "$m" systemd-run --quiet --wait --pipe --collect -p WorkingDirectory=/root -- "$@"; }

# host_setup HOST: dpkg -i, the fleet's configuration and feed token, the socket enabled. No WPC
# is installed: the first call fetches it from the registry.
host_setup() {
  local m=$1 out
  out=$(inside "$m" dpkg -i /srv/in/clawjail.deb 2>&1) || { echo "$out"; fail "$m: dpkg -i failed"; }
  inside "$m" install -m 0644 /srv/in/config.json /etc/clawjail/config.json
  inside "$m" install -m 0600 /srv/in/feed.token /etc/clawjail/feed.token
  inside "$m" systemctl enable --now clawjail.socket 2>/dev/null || fail "$m: systemctl enable --now clawjail.socket"
}

# host_calls HOST I: one allowed exec, I writes (a denied tool) and one call with a forged token.
# Blocked receipts of host I: I + 1.
host_calls() {
  local m=$1 i=$2 job out rc
  job=$(job_of "$i")
  inside "$m" test ! -e "/var/lib/clawjail/policies/$policy_hash.json" || fail "$m: the WPC is there before any call"
  out=$(as_root "$m" clawjail run --job "$job" --cst-file /srv/in/job.cst --workspace "$ws" -- echo "allowed on host$i" </dev/null 2>&1) ||
    fail "$m: the allowed call failed: $out"
  [ "$out" = "allowed on host$i" ] || fail "$m: the allowed call said: $out"
  inside "$m" test -e "/var/lib/clawjail/policies/$policy_hash.json" || fail "$m: the WPC fetched from the registry is not in the store"
  for _ in $(seq "$i"); do
    rc=0
    out=$(echo x | as_root "$m" clawjail fs --job "$job" --cst-file /srv/in/job.cst --workspace "$ws" write x.txt 2>&1) || rc=$?
    [ $rc = 126 ] || fail "$m: a write under a policy that denies it: exit $rc ($out)"
  done
  rc=0
  out=$(as_root "$m" clawjail run --job "$job" --cst-file /srv/in/forged.cst --workspace "$ws" -- echo forged </dev/null 2>&1) || rc=$?
  [ $rc = 126 ] || fail "$m: a call with a forged token: exit $rc ($out)"
  ! grep -q '^forged$' <<<"$out" || fail "$m: the forged token's call ran"
}

# arrival HOST: how long the host's last receipt took from its journal to the collector's.
arrival() {
  local m=$1 last id written seen=''
  last=$(inside "$m" journalctl --no-pager --all -o json -n 1 SYSLOG_IDENTIFIER=clawjail)
  id=$(jq -r .CLAWJAIL_RECEIPT_ID <<<"$last")
  written=$(jq -r .__REALTIME_TIMESTAMP <<<"$last")
  [ -n "$id" ] && [ "$id" != null ] || fail "$m: no receipt in its own journal"
  for _ in $(seq 300); do
    if inside "$collector" journalctl --no-pager -q -D "$remote_dir" -o cat CLAWJAIL_RECEIPT_ID="$id" 2>/dev/null | grep -q .; then
      seen=$(date +%s%6N)
      break
    fi
    sleep 0.05
  done
  [ -n "$seen" ] || fail "$m: receipt $id did not reach the collector within 15 s"
  awk -v a="$written" -v b="$seen" -v m="$m" 'BEGIN { printf "time: %s receipt to the collector %.2f s\n", m, (b - a) / 1e6 }'
}

host_run() {  # host_run HOST I: everything on one host, in the background beside the others
  local m=$1 i=$2 t=$(now)
  host_setup "$m"
  host_calls "$m" "$i"
  echo "time: $m setup and calls $(since "$t") s"
  arrival "$m"
}

t=$(now)
pids=()
for i in 1 2 3; do
  host_run "${hosts[$((i - 1))]}" "$i" >"$work/host$i.log" 2>&1 &
  pids+=($!)
done
failed=''
for i in 1 2 3; do
  wait "${pids[$((i - 1))]}" || failed+=" host$i"
  cat "$work/host$i.log"
done
[ -z "$failed" ] || fail "on$failed"
echo "time: hosts $(since "$t") s"

# ---- a token revoked once, at the feed: refused on its host (host2), the others unaffected ----
cp_cmd "$(jq -nc --arg h "$(head -n 1 "${root_of[$h2]}/srv/in/job.cst" | tr -d '\n' | sha256sum | cut -d' ' -f1)" \
  '{cmd: "revoke", token_hash: $h}')"
t=$(now)
revoked=''
for _ in $(seq 100); do
  rc=0
  out=$(as_root "$h2" clawjail run --job "$(job_of 2)" --cst-file /srv/in/job.cst --workspace "$ws" -- echo after </dev/null 2>&1) || rc=$?
  if [ $rc = 126 ]; then
    grep -q 'CST_REVOKED' <<<"$out" || fail "$h2: refused after the revocation, but not CST_REVOKED: $out"
    revoked=$(since "$t")
    break
  fi
  [ $rc = 0 ] || fail "$h2: a call after the revocation: exit $rc ($out)"
  sleep 0.1
done
[ -n "$revoked" ] || fail "$h2: the token revoked at the feed still works after 10 s"
echo "time: $h2 refuses the token revoked at the feed after $revoked s (poll_s 1)"
out=$(as_root "$h1" clawjail run --job "$(job_of 1)" --cst-file /srv/in/job.cst --workspace "$ws" -- echo still </dev/null 2>&1) ||
  fail "$h1: its own token stopped working after host2's was revoked: $out"
arrival "$h2"

# ---- on the collector ----
collector_journal() { inside "$collector" journalctl --no-pager -q -D "$remote_dir" "$@"; }
query_blocked() { collector_journal --all -o json SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked; }
on_host() { jq -c --arg h "$1" 'select(._HOSTNAME == $h)'; }
cj_collector() { inside "$collector" env -i /srv/clawjail/bin/clawjail "$@"; }
declare -A did_of=()
for m in "${hosts[@]}"; do
  did_of[$m]=$(inside "$m" cat /var/lib/clawjail/keys/supervisor.pub) || fail "no supervisor.pub on $m"
done
trust_all=$(IFS=,; echo "${did_of[*]}")

# What the transport does not stop: Debian 12's journal-remote checks no client certificate
# (systemd issue #4092), so anyone who reaches its port can upload entries in any host's name. A
# forgery in host1's name, a real blocked entry of it with its receipt edited and a receipt id of
# its own, is taken and shows in the query; receipts verify refuses it (below).
forged=$(query_blocked | on_host "$h1" | sed -n 1p | jq -c '
  .CLAWJAIL_RECEIPT_ID = "rcpt_forged" | .CLAWJAIL_REASON = "FORGED"
  | .CLAWJAIL_RECEIPT |= (fromjson | .payload |= (@base64d | fromjson | .receipt_id = "rcpt_forged"
                          | .reason_code = "FORGED" | tojson | @base64) | tojson)')
[ -n "$forged" ] || fail "no blocked entry of $h1 on the collector to forge from"
jq -r 'to_entries[] | select(.key != "__CURSOR" and (.key | startswith("__SEQNUM") | not)) | "\(.key)=\(.value)"' \
  <<<"$forged" >"$work/forged.export"
echo >>"$work/forged.export"
curl -sS --max-time 10 --cacert "$certs/ca.pem" -H 'Content-Type: application/vnd.fdo.journal' \
  --data-binary @"$work/forged.export" "https://127.0.0.1:$port/upload" >"$work/forged.out" 2>&1 ||
  fail "the upload without a client certificate failed (if journal-remote now refuses it, say so in docs/operations.md): $(cat "$work/forged.out")"
for _ in $(seq 50); do collector_journal -o cat CLAWJAIL_RECEIPT_ID=rcpt_forged | grep -q . && break; sleep 0.1; done
collector_journal -o cat CLAWJAIL_RECEIPT_ID=rcpt_forged | grep -q . ||
  fail "the forged upload did not land: curl said $(cat "$work/forged.out"); $(inside "$collector" journalctl --no-pager -n 5 -u systemd-journal-remote.service)"
echo "collector: an upload without a client certificate, in $h1's name: taken"

# The fleet's blocked calls, one query; per host by _HOSTNAME. Host I made I + 1 (host1: and the
# forgery; host2: and the revoked token's).
blocked=$(query_blocked)
echo "collector: journalctl -D $remote_dir SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked"
collector_journal -o short SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked | sed 's/^/  | /'
for i in 1 2 3; do
  m=${hosts[$((i - 1))]}
  want=$((i + 1 + (i == 1) + (i == 2)))
  n=$(on_host "$m" <<<"$blocked" | jq -r .CLAWJAIL_RECEIPT_ID | sort -u | wc -l)
  [ "$n" = "$want" ] || fail "the collector holds $n blocked entries of $m, want $want"
  reasons=$(on_host "$m" <<<"$blocked" | jq -r .CLAWJAIL_REASON | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')
  echo "collector: $m: $n blocked ($reasons)"
done
[ "$(jq -r ._HOSTNAME <<<"$blocked" | sort -u | wc -l)" = 3 ] || fail "blocked entries of other hosts than the three"

# The evidence is the signatures: every real blocked receipt verifies by its own host's key, on
# the collector, with the package's binary and no configuration; the forgery does not.
printf '%s\n' "$blocked" >"$c/srv/evidence/blocked.json"
rc=0
verify_out=$(cj_collector receipts verify --trust "$trust_all" /srv/evidence/blocked.json 2>&1) || rc=$?
echo "$verify_out" | sed 's/^/  | /'
[ $rc = 1 ] || fail "receipts verify with a forgery among the entries: exit $rc"
[ "$(grep -c '^FAIL ' <<<"$verify_out")" = 1 ] && grep -q "^FAIL line [0-9]* $h1 RECEIPT_SIGNATURE_INVALID" <<<"$verify_out" ||
  fail "receipts verify did not refuse exactly the forgery"
for i in 1 2 3; do
  m=${hosts[$((i - 1))]}
  n=$(grep -c "^PASS $m .* signer=${did_of[$m]}$" <<<"$verify_out" || true)
  want=$((i + 1 + (i == 2)))
  [ "$n" = "$want" ] || fail "$n blocked receipts of $m verify by its key ${did_of[$m]}, want $want"
  echo "collector: $m: $n blocked receipts verified by its supervisor key"
done
# Trust is by key: with host1's key alone, host2's receipts do not verify.
rc=0
out=$(cj_collector receipts verify --trust "${did_of[$h1]}" /srv/evidence/blocked.json 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "^FAIL .* ${hosts[1]} RECEIPT_UNTRUSTED_KEY" <<<"$out" || fail "host2's receipts under host1's key alone: exit $rc: $out"
# An unsigned field edited on the way (a blocked call shown as allowed) is caught.
on_host "$h1" <<<"$blocked" | jq -c 'select(.CLAWJAIL_RECEIPT_ID != "rcpt_forged") | .CLAWJAIL_DECISION = "allowed"' | sed -n 1p \
  >"$c/srv/evidence/edited.json"
rc=0
out=$(cj_collector receipts verify --trust "$trust_all" /srv/evidence/edited.json 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "^FAIL line 1 $h1 RECEIPT_PAYLOAD_INVALID journal field CLAWJAIL_DECISION" <<<"$out" ||
  fail "an edited journal field: exit $rc: $out"

# ---- a bundle exported on host1 verifies on the collector, with only the bundle and a did ----
inside "$h1" clawjail bundle export --job "$(job_of 1)" >"$c/srv/evidence/bundle.json" || fail "bundle export on host1"
out=$(cj_collector bundle verify --trust "${did_of[$h1]}" /srv/evidence/bundle.json 2>&1) ||
  fail "the bundle of host1 on the collector: $out"
echo "collector: bundle of $(job_of 1) exported on $h1: $out"
[ ! -e "$c/etc/clawjail" ] || fail "the collector has a clawjail configuration"
rc=0
out=$(cj_collector bundle verify --trust "${did_of[${hosts[1]}]}" /srv/evidence/bundle.json 2>&1) || rc=$?
[ $rc != 0 ] && grep -q BUNDLE_UNTRUSTED_KEY <<<"$out" || fail "host1's bundle under host2's key: exit $rc: $out"

halt_all
echo PASS
