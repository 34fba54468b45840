#!/usr/bin/env bash
# Runs a command with a time limit. If it is still running after SECONDS, prints where each of
# its processes is (every thread's stack, through gdb when there is one), kills them and fails:
# a hang then ends CI with where it hung instead of running into CI's own time limit.
# usage: scripts/watchdog.sh SECONDS COMMAND [ARGUMENTS...]
set -uo pipefail
limit=${1:?usage: scripts/watchdog.sh SECONDS COMMAND [ARGUMENTS...]}
shift
# In a session of its own, so that the command and everything it starts are one process group.
setsid "$@" &
leader=$!
(
  sleep "$limit"
  kill -0 "$leader" 2>/dev/null || exit 0
  echo "watchdog: '$*' still running after $limit s; its processes and their threads:" >&2
  ps -o pid=,etimes=,args= -g "$leader" >&2
  if command -v gdb >/dev/null; then
    for pid in $(ps -o pid=,comm= -g "$leader" | awk '$2 != "bash" && $2 != "sh" {print $1}'); do
      echo "--- process $pid: $(ps -o args= -p "$pid" | cut -c1-200)" >&2
      gdb -batch -p "$pid" -ex "thread apply all bt 30" 2>/dev/null | grep -E '^(Thread|#)' | cut -c1-240 >&2
    done
  fi
  echo "watchdog: stopped '$*' after $limit s (it hung: see the stacks above)" >&2
  kill -KILL -- "-$leader" 2>/dev/null
) &
watcher=$!
wait "$leader"
status=$?
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
exit "$status"
