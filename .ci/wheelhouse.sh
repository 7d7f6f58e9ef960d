#!/usr/bin/env bash
# The offline bundle (`make wheelhouse`): gatekeeper's wheel and the wheel of every dependency — the postgres
# and hwpx extras and the GitHub Action's pinned build backend included — for each supported Python on Linux
# x86_64, so that `pip install --no-index --find-links DIR sop-gatekeeper` works where no package index is reachable.
#   .ci/wheelhouse.sh PYTHON OUT [PYTHON_VERSIONS] [PLATFORMS]
set -euo pipefail
python="${1:?the Python that builds the bundle}"
out="${2:?the folder to write the bundle to}"
versions="${3:-3.11 3.12 3.13 3.14}"
platforms="${4:-manylinux_2_28_x86_64 manylinux_2_17_x86_64}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rm -rf "$out"
mkdir -p "$out"
"$python" -m build --wheel --no-isolation --outdir "$out" "$root" >/dev/null
wheel="$(ls "$out"/sop_gatekeeper-*.whl)"
for version in $versions; do
  args=(--only-binary=:all: --implementation cp --python-version "$version")
  for platform in $platforms; do
    args+=(--platform "$platform")
  done
  # The Action's exact pins keep the bundle at the versions the test suite ran with.
  "$python" -m pip download --quiet --disable-pip-version-check --dest "$out" "${args[@]}" \
    -r "$root/actions/requirements.txt" "$wheel[postgres,hwpx]"
done
echo "wrote $(ls "$out" | wc -l) wheels to $out"
