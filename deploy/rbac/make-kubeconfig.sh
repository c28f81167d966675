#!/usr/bin/env bash
# Writes a kubeconfig for meshops' ServiceAccount on one target cluster, to put into the
# meshops-kubeconfigs Secret. Run with a kubeconfig that can read Secrets in meshops-access:
#   deploy/rbac/make-kubeconfig.sh <context> <cluster-name> > icp.yaml
set -euo pipefail
context=${1:?usage: make-kubeconfig.sh <kube-context> <cluster-name>}
name=${2:?usage: make-kubeconfig.sh <kube-context> <cluster-name>}
ns=meshops-access

# A long-lived token bound to the ServiceAccount (Kubernetes ≥1.24 no longer creates one by itself).
kubectl --context "$context" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: meshops-token
  namespace: $ns
  annotations:
    kubernetes.io/service-account.name: meshops
type: kubernetes.io/service-account-token
YAML

for _ in $(seq 1 30); do
  token=$(kubectl --context "$context" -n "$ns" get secret meshops-token -o jsonpath='{.data.token}' 2>/dev/null || true)
  [ -n "$token" ] && break
  sleep 1
done
[ -n "${token:-}" ] || { echo "the token controller did not fill secret $ns/meshops-token" >&2; exit 1; }

server=$(kubectl config view --raw -o jsonpath="{.clusters[?(@.name==\"$(kubectl config view --raw -o jsonpath="{.contexts[?(@.name==\"$context\")].context.cluster}")\")].cluster.server}")
ca=$(kubectl --context "$context" -n "$ns" get secret meshops-token -o jsonpath='{.data.ca\.crt}')

cat <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: $name
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: meshops
  user:
    token: $(printf '%s' "$token" | base64 -d)
contexts:
- name: $name
  context: {cluster: $name, user: meshops}
current-context: $name
KUBECONFIG
