#!/usr/bin/env bash
# CI's run as CI makes it: a fresh clone of this checkout's HEAD in a new
# temporary folder, `CI=true bash .ci/run` there, then the clone removed
# (each holds its own .venv, about 3.7 GB: clones left behind fill the disk
# that CI's own run needs). Prints the run's exit status and minutes, and
# the least free space seen in the temporary folder while it ran.
#   bash scripts/rehearse.sh > rehearsal.log 2>&1
set -euo pipefail
cd "$(dirname "$0")/.."
clone="$(mktemp -d "${TMPDIR:-/tmp}/multimodal_tf-rehearsal.XXXXXX")"
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  rm -rf "$clone"
}
trap cleanup EXIT
git clone -q . "$clone"
free_gb() { df -P --block-size=1G "${TMPDIR:-/tmp}" | awk 'NR == 2 {print $4}'; }
echo "rehearsing $(git rev-parse --short HEAD) in $clone; $(free_gb) GB free in ${TMPDIR:-/tmp}"
free_gb > "$clone.least"
(
  least="$(free_gb)"
  while sleep 5; do
    now="$(free_gb)"
    if [ "$now" -lt "$least" ]; then least="$now"; echo "$least" > "$clone.least"; fi
  done
) &
sampler=$!
start=$SECONDS
status=0
(cd "$clone" && CI=true bash .ci/run) || status=$?
least="$(cat "$clone.least")"
rm -f "$clone.least"
echo "rehearsal: exit status $status after $(((SECONDS - start) / 60)) min; least free in ${TMPDIR:-/tmp}: ${least} GB"
exit "$status"
