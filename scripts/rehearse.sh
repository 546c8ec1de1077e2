#!/usr/bin/env bash
# CI's run as CI makes it: a fresh clone of this checkout's HEAD (commit
# first: uncommitted changes are not in it) in a new temporary folder,
# `CI=true bash .ci/run` there, then the clone removed (each holds its own
# .venv, about 3.7 GB: clones left behind fill the disk that CI's own run
# needs). Prints the run's exit status and minutes, and the least free
# space seen in the temporary folder while it ran.
#   bash scripts/rehearse.sh > rehearsal.log 2>&1
# (The body is one function, read whole before it runs: editing this file
# during a rehearsal cannot change what the running one does.)
set -euo pipefail

rehearse() {
  cd "$(dirname "$0")/.."
  tmp="${TMPDIR:-/tmp}"
  clone="$(mktemp -d "$tmp/multimodal_tf-rehearsal.XXXXXX")"
  least_file="$clone.least"
  sampler=""
  trap cleanup EXIT
  git clone -q . "$clone"
  echo "rehearsing $(git rev-parse --short HEAD) in $clone; $(($(free_mb) / 1024)) GB free in $tmp"
  free_mb > "$least_file"
  sample_free_space &
  sampler=$!
  start=$SECONDS
  status=0
  (cd "$clone" && CI=true bash .ci/run) || status=$?
  stop_sampler
  least="$(cat "$least_file")"
  echo "rehearsal: exit status $status after $(((SECONDS - start) / 60)) min;" \
    "least free in $tmp: $((least / 1024)).$(((least % 1024) * 10 / 1024)) GB"
  exit "$status"
}

free_mb() { df -P --block-size=1M "$tmp" | awk 'NR == 2 {print $4}'; }

sample_free_space() {
  local least now
  least="$(free_mb)"
  while sleep 5; do
    now="$(free_mb)"
    if [ "$now" -lt "$least" ]; then
      least="$now"
      echo "$least" > "$least_file.new" && mv "$least_file.new" "$least_file"
    fi
  done
}

stop_sampler() {
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampler=""
  fi
}

cleanup() {
  stop_sampler
  rm -rf "$clone" "$least_file" "$least_file.new"
}

rehearse "$@"
