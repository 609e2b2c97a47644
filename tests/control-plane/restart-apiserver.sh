#!/usr/bin/env bash
# Kills the kube-apiserver started by start.sh in DIR outright (kill -9), starts it again with the same
# command, and returns once it answers /readyz: a fault the operator must heal from.
#
#   restart-apiserver.sh DIR [DOWN_SECONDS]
set -euo pipefail
dir="$1" down="${2:-0}"
kill -9 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || true
sleep "$down"
setsid bash "$dir/kube-apiserver.sh" >>"$dir/kube-apiserver.log" 2>&1 </dev/null &
echo $! >"$dir/kube-apiserver.pid"
token="$(cat "$dir/admin.token")"
port="$(cat "$dir/api.port")"
for _ in $(seq 1 240); do
  if curl -ksf -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.25
done
echo "kube-apiserver not ready after 60 s; its log:" >&2
tail -30 "$dir/kube-apiserver.log" >&2
exit 1
