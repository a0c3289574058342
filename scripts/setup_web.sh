#!/usr/bin/env bash
# Set-up for the website widget and its browser tests:
#   - Debian's chromium and chromium-driver (headless browser tests), installed with
#     apt-get when missing and we are root; otherwise says what to install;
#   - the npm packages the widget serves (socket.io-client) and the tests inject
#     (axe-core), with `npm ci` from package-lock.json when node_modules is missing
#     or older than the lock file.
# Nothing is downloaded from a CDN or a browser vendor.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

CHROMIUM_BIN=${CHROMIUM_BIN:-/usr/bin/chromium}
CHROMEDRIVER_BIN=${CHROMEDRIVER_BIN:-/usr/bin/chromedriver}

if [ -x "$CHROMIUM_BIN" ] && [ -x "$CHROMEDRIVER_BIN" ]; then
  say "Chromium and chromedriver are installed ($("$CHROMIUM_BIN" --version 2>/dev/null | head -n1))"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "Installing Debian's chromium and chromium-driver for the browser tests (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  say "Installed $("$CHROMIUM_BIN" --version 2>/dev/null | head -n1)"
else
  cat >&2 <<MSG
WARNING: the browser tests need Chromium and its driver at $CHROMIUM_BIN and
$CHROMEDRIVER_BIN. Install them (as root):
  apt-get install chromium chromium-driver
or point CHROMIUM_BIN and CHROMEDRIVER_BIN at them. Without them the browser tests
are skipped (and fail in CI).
MSG
fi

if ! command -v npm >/dev/null 2>&1; then
  cat >&2 <<'MSG'
ERROR: npm was not found. The chat widget serves socket.io-client from node_modules.
Install Node.js 18 or newer with npm (for example: apt-get install nodejs npm),
then run this again.
MSG
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ] \
  || [ ! -f node_modules/socket.io-client/dist/socket.io.min.js ] \
  || [ ! -f node_modules/axe-core/axe.min.js ]; then
  say "Installing the widget's npm packages (npm ci, from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
else
  say "npm packages are up to date (node_modules)"
fi
