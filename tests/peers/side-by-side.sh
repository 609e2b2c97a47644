# The peers benchmark, sourced by intunecd-backup.sh inside its namespaces (SIDE_BY_SIDE=1), where the
# lab answers for graph.microsoft.com and login.microsoftonline.com on 443: IntuneCD's default backup
# of every tenant one after another and all at once, then `tenantctl export` of every tenant one after
# another and one `tenantctl plan` of all of them — each as its users run it, against Microsoft's
# names. One JSON line per scenario on standard output: the Graph requests the lab counted (tokens
# included), wall seconds, and the largest peak resident memory of one process.
#
# Uses what intunecd-backup.sh set: state, out, url, ca, python, intunecd, client_id, client_secret.

tenants=()
while IFS= read -r tenant; do tenants+=("$tenant"); done < <(ls "$state/tenants")

lab_requests() {
  "$python" - "$url/_lab/stats?tenants=false" "$ca" <<'PY'
import json, ssl, sys, urllib.request
url, ca = sys.argv[1:]
with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca), timeout=30) as r:
    print(json.load(r)["totals"]["requests"])
PY
}

now() { date +%s.%N; }

# report NAME BEFORE START RSS_FILES…: one line of figures.
report() {
  local name="$1" before="$2" start="$3"
  shift 3
  local after end
  after="$(lab_requests)"
  end="$(now)"
  "$python" - "$name" "$before" "$after" "$start" "$end" "${#tenants[@]}" "$@" <<'PY'
import json, sys
name, before, after, start, end, tenants = sys.argv[1:7]
rss_kb = max(int(open(path).read().split()[-1]) for path in sys.argv[7:])
print(json.dumps({
    "scenario": name,
    "tenants": int(tenants),
    "graph_requests": int(after) - int(before),
    "wall_s": round(float(end) - float(start), 2),
    "peak_rss_mib": round(rss_kb / 1024, 1),
}))
PY
}

intunecd_env=(env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u SSL_CERT_DIR
  REQUESTS_CA_BUNDLE="$ca" SSL_CERT_FILE="$ca" CURL_CA_BUNDLE="$ca"
  CLIENT_ID="$client_id" CLIENT_SECRET="$client_secret" PYTHONDONTWRITEBYTECODE=1)

backup() {
  local tenant="$1" dir="$out/side-by-side/intunecd-$2/$1"
  mkdir -p "$dir"
  "${intunecd_env[@]}" TENANT_NAME="$tenant" /usr/bin/time -f "%M" -o "$dir.rss" \
    "$intunecd" -m 1 -o json -p "$dir" --append-id </dev/null >"$dir.log" 2>&1
}

before="$(lab_requests)"
start="$(now)"
for tenant in "${tenants[@]}"; do backup "$tenant" sequential; done
report "intunecd-backup-sequential" "$before" "$start" "$out"/side-by-side/intunecd-sequential/*.rss

before="$(lab_requests)"
start="$(now)"
running=()
for tenant in "${tenants[@]}"; do
  backup "$tenant" parallel &
  running+=($!)
done
# Only the backups: the lab is a child of this shell too.
wait "${running[@]}"
report "intunecd-backup-one-process-per-tenant" "$before" "$start" "$out"/side-by-side/intunecd-parallel/*.rss

tenantctl_env=(env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy
  AZURE_CLIENT_ID="$client_id" AZURE_CLIENT_SECRET="$client_secret" TENANTCTL_CA_FILE="$ca")

before="$(lab_requests)"
start="$(now)"
for tenant in "${tenants[@]}"; do
  "${tenantctl_env[@]}" /usr/bin/time -f "%M" -o "$out/side-by-side/export-$tenant.rss" \
    "$TENANTCTL" export -f "$state/manifests" --tenant "$tenant" --out "$out/side-by-side/export/$tenant" \
    </dev/null >/dev/null 2>"$out/side-by-side/export-$tenant.log"
done
report "tenantctl-export-sequential" "$before" "$start" "$out"/side-by-side/export-*.rss

before="$(lab_requests)"
start="$(now)"
"${tenantctl_env[@]}" /usr/bin/time -f "%M" -o "$out/side-by-side/plan.rss" \
  "$TENANTCTL" plan -f "$state/manifests" </dev/null >/dev/null 2>"$out/side-by-side/plan.log" || true
report "tenantctl-plan" "$before" "$start" "$out/side-by-side/plan.rss"
