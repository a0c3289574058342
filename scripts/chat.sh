#!/usr/bin/env bash
# `make chat`: talk to the assistant in the terminal with `rasa shell`.
# The callback form and the other custom actions need the action server: an action
# server already answering on ACTION_PORT (from `make run`) is used; otherwise one is
# started for this chat and stopped when the chat ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

if curl -fsS -o /dev/null "$(action_server_health)" 2>/dev/null; then
  echo "==> Using the action server already running on port $ACTION_PORT"
else
  start_action_server "$LOG_DIR/actions-chat.log"
  wait_for "Action server" "$(action_server_health)" "$LOG_DIR/actions-chat.log" 60
fi

# rasa shell serves its console channel over HTTP too; a free port of its own keeps
# it clear of a `make run` on 5005.
CHAT_PORT=${CHAT_PORT:-$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
echo "==> Loading the model (about 20 seconds); type /stop to end the chat"
# Not exec: the trap in services.sh stops the action server when the shell ends.
.venv/bin/rasa shell --model "$MODEL" --endpoints endpoints.yml \
  --interface 127.0.0.1 --port "$CHAT_PORT"
