#!/usr/bin/env bash
# Install mlops-actions from the action's own directory into a venv of its own, unless the same
# version is already on PATH (a self-hosted runner or a repeated step). As pipx does, only the
# `mlops-actions` command goes on PATH (a directory holding one symlink to it): never the venv's
# python, pip, dvc or other entry points, so the job's own Python and packages stay first for
# the project's code.
#
#   install.sh          install (the action's "Install mlops-actions" step)
#   install.sh plan     write to $GITHUB_OUTPUT whether an install is needed and where the
#                       package cache lives (dir, key, restore-key), for actions/cache
#   install.sh version  print the version the action ships (mlops_actions/__init__.py)
#
# The installer is uv: the runner's own when it is on PATH, else one wheel from the package
# index (`pip install uv`, pinned by constraints.txt), kept with its cache under
# $RUNNER_TEMP/mlops-actions-install for actions/cache. Without uv it falls back to pip.
#
# Environment: MLOPS_ACTION_SRC (required: the action's directory), MLOPS_EXTRA_PACKAGES (more
# packages, separated by spaces or newlines), MLOPS_EXTRAS (extras of mlops-actions, e.g. s3),
# MLOPS_INSTALLER (auto, the default; uv or pip to force one: the tests and the benchmark),
# RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

die() {
  echo "::error::install.sh: $*" >&2
  exit 1
}

src=$(cd "${MLOPS_ACTION_SRC:?}" && pwd -P)
constraints="$src/constraints.txt"

# The one version source: __version__ in mlops_actions/__init__.py (the package reads it, the
# release workflow checks the tag against it, and this decides "already installed").
version() {
  sed -n "s/^__version__ = [\"']\([^\"']*\)[\"'].*$/\1/p" "$src/mlops_actions/__init__.py"
}
want=$(version)
[ -n "$want" ] || die "no __version__ = \"...\" line in $src/mlops_actions/__init__.py"
if [ "${1:-}" = version ]; then
  echo "$want"
  exit 0
fi

# extra-packages as a list: split on whitespace only, never glob-expanded, never an option.
extra=()
read -r -d '' -a extra <<< "${MLOPS_EXTRA_PACKAGES:-}" || true
for item in ${extra[@]+"${extra[@]}"}; do
  case "$item" in
    -*) die "extra-packages: '$item' starts with '-': give package names or requirements, not installer options" ;;
  esac
done
extras=""
if [ -n "${MLOPS_EXTRAS:-}" ]; then
  [[ "$MLOPS_EXTRAS" =~ ^[A-Za-z0-9._,-]+$ ]] || die "MLOPS_EXTRAS: '$MLOPS_EXTRAS' is not a list of extras"
  extras="[$MLOPS_EXTRAS]"
fi

installed() {
  command -v mlops-actions >/dev/null 2>&1 &&
    [ "$(mlops-actions --version 2>/dev/null)" = "mlops-actions $want" ]
}

python=$(command -v python3 || command -v python) || die "no python3 or python on PATH"
base="${RUNNER_TEMP:-/tmp}/mlops-actions-install"
uv_cache="${UV_CACHE_DIR:-$base/uv-cache}"
tool="$base/uv" # uv itself, when it comes from the package index

if [ "${1:-}" = plan ]; then
  out="${GITHUB_OUTPUT:?}"
  if installed; then
    echo "install=false" >> "$out"
    exit 0
  fi
  # The key: everything that decides what lands in the cache. A partial hit (restore-key) after
  # a change of constraints still brings most wheels.
  prefix="mlops-actions-install-v1-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}"
  hash=$(
    MLOPS_EXTRA_PACKAGES="${MLOPS_EXTRA_PACKAGES:-}" MLOPS_EXTRAS="${MLOPS_EXTRAS:-}" \
      "$python" -I -c '
import hashlib, os, platform, sys
h = hashlib.sha256(open(sys.argv[1], "rb").read())
for part in (os.environ["MLOPS_EXTRA_PACKAGES"], os.environ["MLOPS_EXTRAS"]):
    h.update(b"\0" + part.encode())
print(f"py{platform.python_version()}-{h.hexdigest()[:20]}")
' "$constraints"
  )
  {
    echo "install=true"
    echo "cache-dir<<MLOPS_EOF"
    printf '%s\n%s\n' "$uv_cache" "$tool"
    echo "MLOPS_EOF"
    echo "cache-key=$prefix-$hash"
    echo "cache-restore-key=$prefix-${hash%%-*}-"
  } >> "$out"
  exit 0
fi

if installed; then
  echo "mlops-actions $want is already installed: $(command -v mlops-actions)"
  if [ ${#extra[@]} -gt 0 ]; then
    py=$(head -n 1 "$(command -v mlops-actions)" | sed 's/^#!//')
    if command -v uv >/dev/null 2>&1 && [ "${MLOPS_INSTALLER:-auto}" != pip ]; then
      (cd "${RUNNER_TEMP:-/tmp}" && uv --no-config pip install --quiet --python "$py" \
        --constraint "$constraints" --build-constraint "$constraints" "${extra[@]}")
    else
      (cd "${RUNNER_TEMP:-/tmp}" && PIP_CONSTRAINT="$constraints" "$py" -I -m pip install \
        --disable-pip-version-check --quiet -c "$constraints" "${extra[@]}")
    fi
  fi
  exit 0
fi

# Every installer runs in an empty directory: a uv.toml, pyproject.toml or a module named like
# pip in the checkout must not steer it. python runs with -I (no cwd or PYTHON* variables).
mkdir -p "$base"
work=$(mktemp -d "$base/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
venv="${RUNNER_TEMP:-/tmp}/mlops-actions-venv"
started=$SECONDS

uv_ok() { # a uv new enough for --no-config and --build-constraint
  local v major minor
  v=$("$1" --version 2>/dev/null) || return 1
  v=${v#uv }
  v=${v%% *}
  IFS=. read -r major minor _ <<< "$v"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] && { [ "$major" -gt 0 ] || [ "$minor" -ge 5 ]; }
}

uv=""
case "${MLOPS_INSTALLER:-auto}" in
  pip) ;;
  auto | uv)
    if command -v uv >/dev/null 2>&1 && uv_ok "$(command -v uv)"; then
      uv=$(command -v uv)
    elif [ -x "$tool/bin/uv" ] && uv_ok "$tool/bin/uv"; then
      uv="$tool/bin/uv"
    elif rm -rf "$tool" && "$python" -I -m pip install --disable-pip-version-check --quiet \
      --no-warn-script-location --target "$tool" -c "$constraints" uv && uv_ok "$tool/bin/uv"; then
      uv="$tool/bin/uv"
    elif [ "${MLOPS_INSTALLER:-auto}" = uv ]; then
      die "uv could not be had (not on PATH, and pip install uv failed)"
    else
      echo "uv could not be had (not on PATH, and pip install uv failed): installing with pip"
    fi
    ;;
  *) die "MLOPS_INSTALLER: '$MLOPS_INSTALLER' is not auto, uv or pip" ;;
esac

rm -rf "$venv"
# The versions the project is tested with, for the package, its dependencies and what builds
# them: a model is retrained on the same libraries every run.
if [ -n "$uv" ]; then
  export UV_CACHE_DIR="$uv_cache" UV_PYTHON_DOWNLOADS=never
  # pip in the venv, as `python -m venv` gives, for extra-packages on a later run.
  "$uv" --no-config venv --quiet --seed --python "$python" "$venv"
  # The action's own source is built afresh every time, never taken from a stale cached wheel.
  "$uv" --no-config cache clean --quiet mlops-actions
  args=(--no-config pip install --quiet --python "$venv/bin/python" --constraint "$constraints"
    --build-constraint "$constraints" "$src$extras" ${extra[@]+"${extra[@]}"})
  # Every version is pinned, so a warm cache holds all there is to install: try it without the
  # network first (uv would otherwise revalidate each index page), then as usual.
  if ! { [ -d "$UV_CACHE_DIR" ] && "$uv" --offline "${args[@]}" 2> "$work/offline.log"; }; then
    "$uv" "${args[@]}"
  fi
  how="uv $("$uv" --version | cut -d' ' -f2)"
else
  "$python" -I -m venv "$venv"
  PIP_CONSTRAINT="$constraints" "$venv/bin/python" -I -m pip install --disable-pip-version-check \
    --quiet -c "$constraints" "$src$extras" ${extra[@]+"${extra[@]}"}
  how="pip"
fi
[ -x "$venv/bin/mlops-actions" ] || die "the install left no $venv/bin/mlops-actions"
# PATH gets a directory with the command alone: the venv's bin/ stays off it.
exposed="${RUNNER_TEMP:-/tmp}/mlops-actions-bin"
rm -rf "$exposed"
mkdir -p "$exposed"
ln -s "$venv/bin/mlops-actions" "$exposed/mlops-actions"
echo "$exposed" >> "${GITHUB_PATH:?}"
echo "installed mlops-actions $want into $venv with $how in $((SECONDS - started)) s; on PATH: $exposed/mlops-actions only"
