#!/usr/bin/env bash
# Lab 06: put an AWS access key in a config file and try to commit it. The key is one of the
# planted fake credentials of test/workflows (valid for nothing); the hook cannot tell it from
# a real one, which is the point.
set -euo pipefail
grep '^AWS_ACCESS_KEY_ID=' test/workflows/testdata/secrets/planted-fake-credentials.env > deploy.env
git add deploy.env
git commit -m "deploy settings"
