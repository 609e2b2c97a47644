#!/usr/bin/env bash
# IntuneCD 2.6.0, unmodified, backs up one lab tenant as it would back up a real one: it talks to
# https://login.microsoftonline.com and https://graph.microsoft.com, which inside a private network and
# mount namespace are 127.0.0.1 (a hosts file bind-mounted over /etc/hosts), where
# `tenantctl lab serve --tls --addr 127.0.0.1:443` answers with a certificate for both names.
#
#   intunecd-backup.sh STATE_DIR OUT_DIR
#
# STATE_DIR is a folder made by `tenantctl lab init`; the first tenant under STATE_DIR/tenants/ (or
# $TENANT) is backed up with the first app of STATE_DIR/lab.json. TENANTCTL is the tenantctl binary;
# INTUNECD is IntuneCD-startbackup (default: what tests/peers/setup.sh prints). Nothing is started
# outside the namespaces: the lab, IntuneCD and every request live and die inside them.
#
# With SIDE_BY_SIDE=1 it runs the peers benchmark instead (see side-by-side.sh) and prints its figures.
#
# OUT_DIR gets:
#   backup/         what IntuneCD wrote (`IntuneCD-startbackup -m 1 -o json -p OUT_DIR/backup --append-id`)
#   intunecd.log    its stdout and stderr; intunecd.rc its exit status
#   lab.log         the lab's stderr; lab.url the URL it printed
#   stats.json      GET /_lab/stats after the backup: every request by route template and status
#   hosts           the hosts file mounted over /etc/hosts
#   trace.jsonl     with TRACE=1 only: every request, its status and (errors, $batch) the bodies, as
#                   recorded by trace_proxy.py standing on :443 in front of the lab (then on :8443)
#
# INTUNECD_ARGS (diagnostics only, word-split) adds arguments to IntuneCD's, e.g. `-e ScopeTags` to
# see what it asks after a failure that stops it.
#
# Exits with IntuneCD's status (1 in its place should it be 77); 77 when the namespaces cannot be made
# here (not root, no user namespaces, a sandbox that forbids unshare): the caller skips; 2 for wrong
# arguments or inputs; 3 when the lab did not start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [[ "${1:-}" != "--inside" ]]; then
  if [[ $# -ne 2 ]]; then
    echo "usage: $0 STATE_DIR OUT_DIR" >&2
    exit 2
  fi
  state="$(cd "$1" && pwd)"
  mkdir -p "$2"
  out="$(cd "$2" && pwd)"
  : "${TENANTCTL:?TENANTCTL must name the tenantctl binary}"
  [[ -x "$TENANTCTL" ]] || { echo "TENANTCTL=$TENANTCTL is not an executable" >&2; exit 2; }
  [[ -f "$state/lab.json" && -d "$state/tenants" ]] || { echo "$state is not a lab state folder" >&2; exit 2; }
  intunecd="${INTUNECD:-$(bash "$here/setup.sh")}"
  [[ -x "$intunecd" ]] || { echo "INTUNECD=$intunecd is not an executable" >&2; exit 2; }
  for tool in unshare ip mount; do
    command -v "$tool" >/dev/null || { echo "SKIP: no $tool here, so no private network namespace" >&2; exit 77; }
  done
  # A PID namespace too, whose first process is the script: when it ends, or unshare is killed
  # with SIGKILL (--kill-child; it ignores SIGTERM while the script runs), the kernel ends the lab
  # and IntuneCD with it, so nothing outlives a run.
  ns=(unshare --net --mount --pid --fork --mount-proc --kill-child)
  if ! probe="$("${ns[@]}" bash -c 'ip link set lo up && mount --bind /etc/hosts /etc/hosts' 2>&1)"; then
    echo "SKIP: cannot create a network + mount namespace here (${ns[*]}): $probe" >&2
    exit 77
  fi
  exec "${ns[@]}" bash "$0" --inside "$state" "$out" "$intunecd"
fi

# Inside the namespaces: a loopback of our own, and a hosts file of our own.
state="$2"
out="$3"
intunecd="$4"
python="$(dirname "$intunecd")/python"
ip link set lo up
printf '127.0.0.1 localhost graph.microsoft.com login.microsoftonline.com\n::1 localhost\n' >"$out/hosts"
mount --bind "$out/hosts" /etc/hosts
# Nothing else to resolve names with: no DNS server is reachable from here anyway.
: >"$out/resolv.conf"
mount --bind "$out/resolv.conf" /etc/resolv.conf 2>/dev/null || true

lab_pid=""
proxy_pid=""
stop_lab() {
  local pid
  for pid in "$proxy_pid" "$lab_pid"; do
    if [[ -n "$pid" ]]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  lab_pid=""
  proxy_pid=""
}
trap stop_lab EXIT

rm -f "$out/lab.url" "$out/stats.json" "$out/intunecd.rc" "$out/trace.jsonl"
lab_port=443
if [[ "${TRACE:-}" == 1 ]]; then lab_port=8443; fi
# LAB_ARGS (word-split) adds knobs, e.g. `--latency-ms 50` for the side-by-side benchmark.
"$TENANTCTL" lab serve --state "$state" --tls --addr "127.0.0.1:$lab_port" ${LAB_ARGS:-} </dev/null >"$out/lab.stdout" 2>"$out/lab.log" &
lab_pid=$!
url=""
for _ in $(seq 300); do
  url="$(head -n 1 "$out/lab.stdout" 2>/dev/null || true)"
  if [[ "$url" == https://* ]]; then break; fi
  url=""
  if ! kill -0 "$lab_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "the lab did not print its URL; it said:" >&2
  cat "$out/lab.stdout" "$out/lab.log" >&2 || true
  exit 3
fi
echo "$url" >"$out/lab.url"
ca="$state/tls/ca.pem"
if [[ "${TRACE:-}" == 1 ]]; then
  "$python" "$here/trace_proxy.py" 443 "$lab_port" "$state" "$out/trace.jsonl" </dev/null >"$out/proxy.stdout" 2>"$out/proxy.log" &
  proxy_pid=$!
  for _ in $(seq 100); do
    if grep -q ready "$out/proxy.stdout" 2>/dev/null || ! kill -0 "$proxy_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  grep -q ready "$out/proxy.stdout" || { echo "trace_proxy.py did not start:" >&2; cat "$out/proxy.log" >&2; exit 3; }
fi

tenant="${TENANT:-$(ls "$state/tenants" | head -n 1)}"
read -r client_id client_secret < <("$python" -c '
import json, sys
app = json.load(open(sys.argv[1]))["apps"][0]
print(app["clientId"], app["clientSecret"])' "$state/lab.json")

# SIDE_BY_SIDE=1: the benchmark's scenarios on this lab instead of the one backup (side-by-side.sh).
if [[ "${SIDE_BY_SIDE:-}" == 1 ]]; then
  # shellcheck source=side-by-side.sh
  source "$here/side-by-side.sh"
  stop_lab
  exit 0
fi

# IntuneCD as its --help documents it for a pipeline: standalone mode (-m 1), credentials from TENANT_NAME,
# CLIENT_ID and CLIENT_SECRET, JSON files, every backup module (no -e). --append-id, IntuneCD's own
# option for tenants with same-named objects, puts each object's id in its file name
# ("NAME_TECHNOLOGY__ID.json"): without it two policies of one name (lab init makes an unmanaged
# "Lab Antivirus 01" beside the managed one) are written to one file and one is lost. Only the lab's
# CA is trusted, as the machine's bundle variables would otherwise win; no proxy is inherited.
rm -rf "$out/backup"
mkdir -p "$out/backup"
set +e
(
  cd "$out"
  exec env -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u http_proxy -u https_proxy -u all_proxy \
    -u NO_PROXY -u no_proxy -u SSL_CERT_DIR -u REPO_DIR \
    REQUESTS_CA_BUNDLE="$ca" SSL_CERT_FILE="$ca" CURL_CA_BUNDLE="$ca" \
    TENANT_NAME="$tenant" CLIENT_ID="$client_id" CLIENT_SECRET="$client_secret" \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    timeout 900 "$intunecd" -m 1 -o json -p "$out/backup" --append-id ${INTUNECD_ARGS:-}
) </dev/null >"$out/intunecd.log" 2>&1
rc=$?
set -e
echo "$rc" >"$out/intunecd.rc"

# What IntuneCD asked for, as the lab counted it.
"$python" - "$url/_lab/stats" "$ca" "$out/stats.json" <<'EOF' || echo "could not fetch $url/_lab/stats" >&2
import ssl, sys, urllib.request
url, ca, dest = sys.argv[1:]
with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca), timeout=30) as r:
    open(dest, "wb").write(r.read())
EOF
stop_lab
if [[ $rc -eq 77 ]]; then rc=1; fi
exit "$rc"
