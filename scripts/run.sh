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
WEB_HOST=${WEB_HOST:-127.0.0.1}
WEB_PORT=${WEB_PORT:-8080}
CONSOLE_HOST=${CONSOLE_HOST:-127.0.0.1}
CONSOLE_PORT=${CONSOLE_PORT:-8081}
# Exact origins allowed to open the widget's socketio channel (channels/public.py).
export WIDGET_ALLOWED_ORIGINS=${WIDGET_ALLOWED_ORIGINS:-http://$WEB_HOST:$WEB_PORT,http://localhost:$WEB_PORT}
export SANIC_HOST=${SANIC_HOST:-127.0.0.1}
# endpoints.yml reads it; Rasa has no default syntax for ${...}.
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
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
.venv/bin/python -m actions.server --port "$ACTION_PORT" >var/log/actions.log 2>&1 &
pids+=($!)

echo "==> Starting the Rasa server on $RASA_HOST:$RASA_PORT (log: var/log/rasa.log)"
.venv/bin/rasa run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$RASA_HOST" --port "$RASA_PORT" >var/log/rasa.log 2>&1 &
pids+=($!)

wait_for "Action server" "http://$SANIC_HOST:$ACTION_PORT/health" var/log/actions.log 60
echo "    Loading the model (about 20 seconds)..."
# Rasa loads the model before it starts listening, so an answer means it is ready.
wait_for "Rasa server" "http://$RASA_HOST:$RASA_PORT/webhooks/rest/" var/log/rasa.log 240

echo "==> Starting the demo page with the chat widget on $WEB_HOST:$WEB_PORT (log: var/log/web.log)"
.venv/bin/python -m web --host "$WEB_HOST" --port "$WEB_PORT" --rasa-url "http://$RASA_HOST:$RASA_PORT" \
  >var/log/web.log 2>&1 &
pids+=($!)
wait_for "Page server" "http://$WEB_HOST:$WEB_PORT/health" var/log/web.log 30

if [ -f console/__main__.py ]; then
  echo "==> Starting the staff console on $CONSOLE_HOST:$CONSOLE_PORT (log: var/log/console.log)"
  .venv/bin/python -m console serve --host "$CONSOLE_HOST" --port "$CONSOLE_PORT" >var/log/console.log 2>&1 &
  pids+=($!)
  wait_for "Staff console" "http://$CONSOLE_HOST:$CONSOLE_PORT/health" var/log/console.log 30
fi

cat <<MSG

The assistant is running. Talk to it:
  Website:  http://$WEB_HOST:$WEB_PORT/ (demo page with the chat widget)
  Console:  http://$CONSOLE_HOST:$CONSOLE_PORT/ (staff; add an account with \`make staff-user\`)
  REST:     curl -s -XPOST http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook \\
              -H 'Content-Type: application/json' -d '{"sender":"me","message":"what is kyphoplasty?"}'
  socketio: http://$RASA_HOST:$RASA_PORT/socket.io (used by the website widget)
  Terminal: make chat (in another terminal)
Press Ctrl-C to stop everything.
MSG
wait -n "${pids[@]}" || true
echo "A service stopped; see var/log/. Shutting down." >&2
