# Shared by scripts/run.sh and scripts/chat.sh (sourced, not run): the settings every
# service needs, and starting, waiting for and stopping background services.
# Expects to be sourced from the repository root with `set -euo pipefail`.

ACTION_PORT=${ACTION_PORT:-5055}
MODEL=${MODEL:-models/kyphoplasty.tar.gz}
export SANIC_HOST=${SANIC_HOST:-127.0.0.1}
# endpoints.yml reads it; Rasa has no default syntax for ${...}.
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
LOG_DIR=${LOG_DIR:-var/log}
mkdir -p "$LOG_DIR"

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "Stopping (${pids[*]})..."
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
# A trap that returns lets the script carry on with its next command, so Ctrl-C
# and SIGTERM end the script here, after stopping what it started.
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

wait_for() {  # name url log seconds
  local name=$1 url=$2 log=$3 limit=$4 i
  for ((i = 0; i < limit; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      echo "    $name is up"; return 0
    fi
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "ERROR: $name stopped while starting. Last lines of $log:" >&2
        tail -n 20 "$log" >&2; return 1
      fi
    done
    sleep 1
  done
  echo "ERROR: $name did not answer at $url within ${limit}s; see $log" >&2
  return 1
}

start_action_server() {  # log
  local log=$1
  echo "==> Starting the action server on $SANIC_HOST:$ACTION_PORT (log: $log)"
  .venv/bin/python -m actions.server --port "$ACTION_PORT" >"$log" 2>&1 &
  pids+=($!)
}

action_server_health() {
  echo "http://$SANIC_HOST:$ACTION_PORT/health"
}
