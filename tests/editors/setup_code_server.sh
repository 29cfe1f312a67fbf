#!/usr/bin/env bash
# Installs a real VS Code (code-server 4.100.3 = VS Code 1.100.3) and puppeteer-core into a
# cache folder outside the repository, from the npm registry and Debian's packages only.
# Prints the folder on its last line. Re-runs with a finished install return at once.
#
#   bash tests/editors/setup_code_server.sh [CACHE_DIR]
#
# Needs (Debian): chromium ripgrep build-essential python3 pkg-config libkrb5-dev, node 20.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PUPPETEER_VERSION=24.43.1
cache=${1:-${CLAN_LSP_EDITORS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clan-lsp-editors}}
stamp="$cache/.installed-code-server-$CODE_SERVER_VERSION-puppeteer-$PUPPETEER_VERSION"
if [ -f "$stamp" ]; then
  echo "$cache"
  exit 0
fi

for tool in node npm rg chromium; do
  command -v "$tool" >/dev/null || { echo "setup_code_server: $tool is missing" >&2; exit 1; }
done

mkdir -p "$cache"
cd "$cache"
[ -f package.json ] || echo '{ "private": true }' > package.json
quiet=(--no-audit --no-fund --loglevel=error)

# code-server's own install scripts would download; run only the native rebuilds, by name.
npm install "${quiet[@]}" --ignore-scripts "code-server@$CODE_SERVER_VERSION" "puppeteer-core@$PUPPETEER_VERSION"
export npm_config_dangerously_allow_all_scripts=true
npm rebuild "${quiet[@]}" argon2

cd node_modules/code-server/lib/vscode
npm install "${quiet[@]}" --omit=dev --ignore-scripts
# @vscode/ripgrep's installer downloads a binary; Debian's rg does the same job.
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild "${quiet[@]}" kerberos @vscode/spdlog @vscode/deviceid native-watchdog
npm rebuild "${quiet[@]}" node-pty || echo "setup_code_server: node-pty did not build (terminals only)" >&2
[ -e node_modules.asar ] || ln -s node_modules node_modules.asar
(cd extensions && npm install "${quiet[@]}" --omit=dev)

touch "$stamp"
echo "$cache"
