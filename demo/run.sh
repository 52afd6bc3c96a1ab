#!/usr/bin/env bash
# Imports the bundled Twilio export into a throwaway database and prints the
# SMS Numbers table and the overview, as of the sample's own dates.
set -euo pipefail
smsctl="$1"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SMSCTL_DB="$work/demo.db"
export SMSCTL_NOW=2026-11-30T23:00:00Z
"$smsctl" init --main +14155550100
"$smsctl" config set billing.timezone America/Los_Angeles >/dev/null
"$smsctl" config set import.timezone America/Los_Angeles >/dev/null
for n in +14155550101 +14155550102 +14155550103; do "$smsctl" numbers add "$n"; done
"$smsctl" logs import --quiet "$here/twilio_console_export.csv"
export SMSCTL_NOW=2026-12-01T00:00:00Z
"$smsctl" numbers list --all-time
"$smsctl" overview --period 2026-11-30
