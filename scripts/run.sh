#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST + socketio), waits until both
# answer, prints where to talk to the bot, and stops everything on Ctrl-C.
# Expects `make setup train` to have run (the Makefile's `run` target does that).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/services.sh
RASA_HOST=${RASA_HOST:-127.0.0.1}
RASA_PORT=${RASA_PORT:-5005}
WEB_HOST=${WEB_HOST:-127.0.0.1}
WEB_PORT=${WEB_PORT:-8080}
CONSOLE_HOST=${CONSOLE_HOST:-127.0.0.1}
CONSOLE_PORT=${CONSOLE_PORT:-8081}
# Exact origins allowed to open the widget's socketio channel (channels/public.py).
export WIDGET_ALLOWED_ORIGINS=${WIDGET_ALLOWED_ORIGINS:-http://$WEB_HOST:$WEB_PORT,http://localhost:$WEB_PORT}

start_action_server "$LOG_DIR/actions.log"

echo "==> Starting the Rasa server on $RASA_HOST:$RASA_PORT (log: $LOG_DIR/rasa.log)"
.venv/bin/rasa run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$RASA_HOST" --port "$RASA_PORT" >"$LOG_DIR/rasa.log" 2>&1 &
pids+=($!)

wait_for "Action server" "$(action_server_health)" "$LOG_DIR/actions.log" 60
echo "    Loading the model (about 20 seconds)..."
# Rasa loads the model before it starts listening, so an answer means it is ready.
wait_for "Rasa server" "http://$RASA_HOST:$RASA_PORT/webhooks/rest/" "$LOG_DIR/rasa.log" 240

echo "==> Starting the demo page with the chat widget on $WEB_HOST:$WEB_PORT (log: $LOG_DIR/web.log)"
.venv/bin/python -m web --host "$WEB_HOST" --port "$WEB_PORT" --rasa-url "http://$RASA_HOST:$RASA_PORT" \
  >"$LOG_DIR/web.log" 2>&1 &
pids+=($!)
wait_for "Page server" "http://$WEB_HOST:$WEB_PORT/health" "$LOG_DIR/web.log" 30

if [ -f console/__main__.py ]; then
  echo "==> Starting the staff console on $CONSOLE_HOST:$CONSOLE_PORT (log: $LOG_DIR/console.log)"
  .venv/bin/python -m console serve --host "$CONSOLE_HOST" --port "$CONSOLE_PORT" >"$LOG_DIR/console.log" 2>&1 &
  pids+=($!)
  wait_for "Staff console" "http://$CONSOLE_HOST:$CONSOLE_PORT/health" "$LOG_DIR/console.log" 30
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
echo "A service stopped; see $LOG_DIR/. Shutting down." >&2
