#!/usr/bin/env bash
# Install everything reviewkit needs, idempotently: system packages (Chromium for PDF and
# browser tests, poppler for reading PDFs back, fonts, LibreOffice for checking the Word and
# Excel files as an office suite opens them) and a Python virtual environment.
# Re-running is quick: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
# nginx-light: the review hub's HTTPS front (its test runs the site `reviewkit hub --write-config` writes).
APT_PACKAGES=(chromium poppler-utils fonts-dejavu-core fonts-liberation2 libreoffice-writer libreoffice-calc nginx-light)
# The review hub's proxy (configurable-http-proxy) runs on Node.js: Debian's, where none is installed.
command -v node >/dev/null || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null || APT_PACKAGES+=(npm)
PROXY_VERSION=5.3.0

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages (as root): apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtual environment in $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

# Reinstall only when the dependency list changed.
stamp="$VENV/.reviewkit-installed"
want=$(sha256sum pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages (this takes a few minutes the first time)"
  "$VENV/bin/python" -m pip install -q -e '.[dev,hub]' -c constraints.txt
  # A kernelspec pointing at this environment's Python, so notebooks never run in another one.
  # (ipykernel stages the spec in a temp folder it leaves behind: give it one of ours to remove.)
  stage=$(mktemp -d)
  TMPDIR="$stage" "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 \
    --display-name "Python 3 (reviewkit)" >/dev/null
  rm -rf "$stage"
  echo "$want" > "$stamp"
fi
# configurable-http-proxy for 'reviewkit hub', inside the virtual environment (no global npm install).
if [ "$("$VENV/node_modules/.bin/configurable-http-proxy" --version 2>/dev/null)" != "$PROXY_VERSION" ]; then
  echo "setup: installing configurable-http-proxy $PROXY_VERSION (npm) into $VENV"
  npm install --silent --no-audit --no-fund --prefix "$VENV" "configurable-http-proxy@$PROXY_VERSION" >/dev/null
fi
echo "setup: ready"
