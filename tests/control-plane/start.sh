#!/usr/bin/env bash
# Starts etcd and kube-apiserver on loopback, the way envtest does, for the operator's tests.
#
#   start.sh DIR ETCD_PORT ETCD_PEER_PORT APISERVER_PORT [WATCH_PID]
#
# Writes into DIR: `kubectl` (a link to the one built with the control plane), a service-account signing key, a static token file with an admin (system:masters)
# and the operator's service account (`tenantctl-system:tenantctl-operator`, RBAC decides what it may
# do), `admin.kubeconfig` and `operator.kubeconfig`, and the processes' logs. Returns once
# /readyz answers. Both processes are killed outright when WATCH_PID exits (the test run that started
# them; the data is throwaway, and kube-apiserver can hang in a graceful stop once etcd is gone), so an
# interrupted run leaves nothing behind (the folder is removed too).
set -euo pipefail
dir="$1" etcd_port="$2" peer_port="$3" api_port="$4" watch_pid="${5:-}"
here="$(cd "$(dirname "$0")" && pwd)"
bin="$("$here/build.sh")"
mkdir -p "$dir/certs" "$dir/etcd"
# The tests drive the cluster with the real kubectl, built with the control plane.
ln -sf "$bin/kubectl" "$dir/kubectl"

openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
admin_token="admin-$(openssl rand -hex 16)"
operator_token="operator-$(openssl rand -hex 16)"
cat >"$dir/tokens.csv" <<EOF
$admin_token,admin,admin-uid,system:masters
$operator_token,system:serviceaccount:tenantctl-system:tenantctl-operator,operator-uid,"system:serviceaccounts,system:serviceaccounts:tenantctl-system,system:authenticated"
EOF

setsid "$bin/etcd" --data-dir "$dir/etcd" --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" >"$dir/etcd.log" 2>&1 </dev/null &
echo $! >"$dir/etcd.pid"

# The command is kept, so that restart-apiserver.sh can start it again after a kill -9.
cat >"$dir/kube-apiserver.sh" <<APISERVER
exec "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \\
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" --cert-dir "$dir/certs" \\
  --service-cluster-ip-range 10.0.0.0/24 --service-account-issuer https://kubernetes.default.svc \\
  --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \\
  --authorization-mode RBAC --token-auth-file "$dir/tokens.csv" \\
  --disable-admission-plugins ServiceAccount
APISERVER
echo "$admin_token" >"$dir/admin.token"
echo "$api_port" >"$dir/api.port"
setsid bash "$dir/kube-apiserver.sh" >"$dir/kube-apiserver.log" 2>&1 </dev/null &
echo $! >"$dir/kube-apiserver.pid"

stop() { kill -9 "$(cat "$dir/kube-apiserver.pid")" "$(cat "$dir/etcd.pid")" 2>/dev/null || true; }
for _ in $(seq 1 240); do
  if curl -ksf -H "Authorization: Bearer $admin_token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null; then
    echo "kube-apiserver exited; its log:" >&2
    tail -30 "$dir/kube-apiserver.log" >&2
    stop
    exit 1
  fi
  sleep 0.5
done
if ! curl -ksf -H "Authorization: Bearer $admin_token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then
  echo "kube-apiserver not ready after 120 s; its log:" >&2
  tail -30 "$dir/kube-apiserver.log" >&2
  stop
  exit 1
fi

ca=$(base64 -w0 "$dir/certs/apiserver.crt")
kubeconfig() {
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $ca
users:
- name: $1
  user:
    token: $2
contexts:
- name: test
  context:
    cluster: test
    user: $1
current-context: test
EOF
}
kubeconfig admin "$admin_token" >"$dir/admin.kubeconfig"
kubeconfig operator "$operator_token" >"$dir/operator.kubeconfig"

if [[ -n "$watch_pid" ]]; then
  setsid bash -c "while kill -0 $watch_pid 2>/dev/null; do sleep 1; done; \
    kill -9 \$(cat '$dir/kube-apiserver.pid') \$(cat '$dir/etcd.pid') 2>/dev/null; sleep 1; rm -rf '$dir'" \
    >/dev/null 2>&1 </dev/null &
fi
