#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST + socketio), waits until both
# answer, prints where to talk to the bot, and stops everything on Ctrl-C.
# Expects `make setup train` to have run (the Makefile's `run` target does that).
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_HOST=${RASA_HOST:-127.0.0.1}
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
MODEL=${MODEL:-models/kyphoplasty.tar.gz}
export SANIC_HOST=${SANIC_HOST:-127.0.0.1}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p var/log

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "Stopping (${pids[*]})..."
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop_all INT TERM EXIT

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

echo "==> Starting the action server on $SANIC_HOST:$ACTION_PORT (log: var/log/actions.log)"
.venv/bin/rasa run actions --actions actions --port "$ACTION_PORT" >var/log/actions.log 2>&1 &
pids+=($!)

echo "==> Starting the Rasa server on $RASA_HOST:$RASA_PORT (log: var/log/rasa.log)"
.venv/bin/rasa run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$RASA_HOST" --port "$RASA_PORT" >var/log/rasa.log 2>&1 &
pids+=($!)

wait_for "Action server" "http://$SANIC_HOST:$ACTION_PORT/health" var/log/actions.log 60
echo "    Loading the model (about 20 seconds)..."
# Rasa loads the model before it starts listening, so an answer means it is ready.
wait_for "Rasa server" "http://$RASA_HOST:$RASA_PORT/webhooks/rest/" var/log/rasa.log 240

cat <<MSG

The assistant is running. Talk to it:
  REST:     curl -s -XPOST http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook \\
              -H 'Content-Type: application/json' -d '{"sender":"me","message":"what is kyphoplasty?"}'
  socketio: http://$RASA_HOST:$RASA_PORT/socket.io (used by the website widget)
  Terminal: make chat (in another terminal)
Press Ctrl-C to stop everything.
MSG
wait -n "${pids[@]}" || true
echo "A service stopped; see var/log/. Shutting down." >&2
