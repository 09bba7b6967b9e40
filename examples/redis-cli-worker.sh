#!/usr/bin/env bash
# The smallest external jobd worker: nothing but bash and redis-cli.
# Takes jobs from a queue, "runs" them (here: upper-cases the payload) and
# acks with the result; a failing run is reported with JOB.FAIL, so the
# job is retried with its backoff or goes to the dead letters.
#
#   examples/redis-cli-worker.sh emails          # JOBD_PORT=6379 by default
#
# One connection holds each lease: JOB.GET and JOB.ACK go through the
# same redis-cli process (a coprocess), because a lease ends when its
# connection closes.
set -euo pipefail
queue="${1:?usage: redis-cli-worker.sh queue}"
coproc CLI { redis-cli -p "${JOBD_PORT:-6379}" --no-raw 2>&1; }

ask() {  # sends one command, prints the reply's lines until the reply is complete
  printf '%s\n' "$*" >&"${CLI[1]}"
}

while true; do
  ask "JOB.GET BLOCK 5000 FROM $queue"
  read -r first <&"${CLI[0]}"
  if [[ "$first" == "(empty array)" ]]; then
    [[ -n "${ONCE:-}" ]] && exit 1
    continue
  fi
  # --no-raw shows a job as: 1) 1) "queue"  /  2) "id"  /  3) "payload"  /  4) (integer) attempt
  read -r id_line <&"${CLI[0]}"
  read -r payload_line <&"${CLI[0]}"
  read -r _attempt <&"${CLI[0]}"
  id="$(sed -E 's/^ *2\) "(.*)"$/\1/' <<<"$id_line")"
  payload="$(sed -E 's/^ *3\) "(.*)"$/\1/' <<<"$payload_line")"
  if result="$(tr '[:lower:]' '[:upper:]' <<<"$payload")"; then
    ask "JOB.ACK $id $result"
  else
    ask "JOB.FAIL $id \"handler failed\""
  fi
  read -r _reply <&"${CLI[0]}"
  [[ -n "${ONCE:-}" ]] && exit 0
done
