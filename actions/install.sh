#!/usr/bin/env bash
# Installs gatekeeper from this action's own checkout, with the pinned dependencies of requirements.txt,
# into a virtual environment under RUNNER_TEMP (reused by later steps of the same job).
set -euo pipefail
action_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gatekeeper-venv"
stamp="$venv/.gatekeeper-installed"
want="$(cat "$action_root/actions/requirements.txt" "$action_root/gatekeeper/__init__.py" | sha256sum | cut -c1-64)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/gatekeeper" ]; then
  echo "gatekeeper is already installed in $venv"
else
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv \
    -r "$action_root/actions/requirements.txt"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv \
    --no-deps --no-build-isolation "$action_root"
  echo "$want" > "$stamp"
fi
