#!/usr/bin/env bash
# Deploy or upgrade Omnicase from an overlay, in the order the system needs:
#
#   1. foundation  namespace, service account, configuration, network policies
#   2. data        PostgreSQL (CloudNativePG) and Kafka (Strimzi) with its topics;
#                  waits until both report Ready
#   3. migrate     deletes the previous migrations Job (Jobs are immutable),
#                  creates it again and waits for it to complete
#   4. app         the services; waits for every Deployment's rolling update
#
# A failed step stops the script, so the services are never rolled out onto a
# schema that is not migrated.
#
# Usage: deploy/scripts/rollout.sh OVERLAY_DIR [NAMESPACE]
#   e.g. deploy/scripts/rollout.sh deploy/overlays/prod omnicase
# Environment: KUBECTL (default kubectl), TIMEOUT (default 15m).
set -euo pipefail

overlay=${1:?usage: rollout.sh OVERLAY_DIR [NAMESPACE]}
namespace=${2:-}
kubectl=${KUBECTL:-kubectl}
timeout=${TIMEOUT:-15m}

rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
"$kubectl" kustomize "$overlay" > "$rendered"

if [[ -z "$namespace" ]]; then
    namespace=$(awk '/^kind: Namespace$/ {ns = 1} ns && /^  name: / {print $2; exit}' "$rendered")
fi
ns=(--namespace "$namespace")

step() { printf '\n== %s\n' "$*"; }

step "foundation"
"$kubectl" apply --server-side -f "$rendered" -l omnicase.io/phase=foundation

step "data: PostgreSQL and Kafka"
"$kubectl" apply --server-side -f "$rendered" -l omnicase.io/phase=data
"$kubectl" wait "${ns[@]}" --for=condition=Ready --timeout="$timeout" clusters.postgresql.cnpg.io --all
"$kubectl" wait "${ns[@]}" --for=condition=Ready --timeout="$timeout" kafkas.kafka.strimzi.io --all
"$kubectl" wait "${ns[@]}" --for=condition=Ready --timeout="$timeout" kafkatopics.kafka.strimzi.io --all

step "migrate: omnicase migrate"
"$kubectl" delete "${ns[@]}" job omnicase-migrate --ignore-not-found --wait=true
"$kubectl" apply --server-side -f "$rendered" -l omnicase.io/phase=migrate
if ! "$kubectl" wait "${ns[@]}" --for=condition=Complete --timeout="$timeout" job/omnicase-migrate; then
    "$kubectl" logs "${ns[@]}" job/omnicase-migrate --tail=100 || true
    echo "migrations did not complete: the services were not rolled out" >&2
    exit 1
fi

step "app: the services"
"$kubectl" apply --server-side -f "$rendered" -l omnicase.io/phase=app
for deployment in $("$kubectl" get "${ns[@]}" deployments -l app.kubernetes.io/part-of=omnicase -o name); do
    "$kubectl" rollout status "${ns[@]}" --timeout="$timeout" "$deployment"
done
step "done"
