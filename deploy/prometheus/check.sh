#!/bin/sh
# Validates the Prometheus artefacts with promtool (Debian/Ubuntu: apt-get install prometheus):
# the scrape configuration, the alert rules, and the rules' unit tests (alerts.test.yml).
# Runs from any directory; exits non-zero on the first failure.
set -eu
cd "$(dirname "$0")"

if ! command -v promtool >/dev/null 2>&1; then
    echo "check.sh: promtool not found (Debian/Ubuntu package 'prometheus')" >&2
    exit 2
fi

promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml
echo "check.sh: prometheus.yml, alerts.yml and alerts.test.yml are valid"
