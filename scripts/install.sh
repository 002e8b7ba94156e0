#!/usr/bin/env bash
# Install mlops-actions from the action's own directory into a venv on PATH, unless the same
# version is already on PATH (a self-hosted runner or a repeated step).
set -euo pipefail
src="${MLOPS_ACTION_SRC:?}"
want=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$src/mlops_actions/__init__.py")
if command -v mlops-actions >/dev/null 2>&1 && [ "$(mlops-actions --version 2>/dev/null)" = "mlops-actions $want" ]; then
  echo "mlops-actions $want is already installed: $(command -v mlops-actions)"
  if [ -n "${MLOPS_EXTRA_PACKAGES:-}" ]; then
    py=$(head -n 1 "$(command -v mlops-actions)" | sed 's/^#!//')
    # shellcheck disable=SC2086  # extra packages are a space-separated list on purpose
    "$py" -m pip install --disable-pip-version-check --quiet -c "$src/constraints.txt" ${MLOPS_EXTRA_PACKAGES}
  fi
  exit 0
fi
python=$(command -v python3 || command -v python)
venv="${RUNNER_TEMP:-/tmp}/mlops-actions-venv"
"$python" -m venv "$venv"
extras=""
[ -n "${MLOPS_EXTRAS:-}" ] && extras="[${MLOPS_EXTRAS}]"
# shellcheck disable=SC2086  # extra packages are a space-separated list on purpose
# The versions the project is tested with: a model is retrained on the same libraries every run.
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -c "$src/constraints.txt" \
  "$src$extras" ${MLOPS_EXTRA_PACKAGES:-}
echo "$venv/bin" >> "${GITHUB_PATH:?}"
echo "installed mlops-actions $want into $venv"
