#!/usr/bin/env bash
# Regenerates docs/screenshots/vscode-*.png: the VS Code test (vscode_e2e.mjs) run with
# --screenshots on a freshly built .vsix. The pictures replace the old ones only when every
# check passed. Needs what tests/editors/setup_code_server.sh needs.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=$(bash tests/editors/setup_code_server.sh | tail -1)
(cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run package >/dev/null)
shots=$(mktemp -d)
trap 'rm -rf "$shots"' EXIT
node tests/editors/vscode_e2e.mjs --cache "$cache" --vsix editors/vscode/clan-lsp.vsix \
  --python "${PYTHON:-python3}" --screenshots "$shots"
mkdir -p docs/screenshots
cp "$shots"/*.png docs/screenshots/
ls -l docs/screenshots/
