#!/usr/bin/env bash
# Lab 09's break: mallory, who was given cluster-admin (the group system:masters), asks for a
# privileged copy of the app to poke around the node. The admin's kubeconfig ($KUBECONFIG) acts
# as her, as `kubectl --as` does. The pod has the app's signed image by digest and resources
# within the namespace's limits, so only Pod Security has something to refuse.
set -euo pipefail
image=$(kubectl -n template-api get deploy template-api -o jsonpath='{.spec.template.spec.containers[0].image}')
kubectl --as=mallory@example.com --as-group=system:masters -n template-api create -f - <<EOF_POD
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
    - name: debug
      image: ${image}
      securityContext:
        privileged: true
      resources:
        requests: {cpu: 10m, memory: 16Mi, ephemeral-storage: 16Mi}
        limits: {cpu: 100m, memory: 64Mi, ephemeral-storage: 64Mi}
EOF_POD
