#!/usr/bin/env bash
# Run the project's install command (MLOPS_INSTALL: `pip install -r requirements.txt`, any bash)
# with the runner's step files out of its reach, as mlops-actions runs the training command.
#
# The runner reads the files named by GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STATE and
# GITHUB_STEP_SUMMARY when a step ends. An install runs the project's code (a setup.py, a build
# backend, a Makefile a pull request may change); appending `BASH_ENV=…` to GITHUB_ENV, or a
# directory with its own `mlops-actions` to GITHUB_PATH, would take over the next step, which
# holds the token. So the command sees empty scratch files under those names, the real files
# hold exactly what they held before when it is done (in case it found them on its own in the
# runner's temp directory), and a warning names each file it tried to change. A process it
# leaves running in the background is beyond this (README: Security model).
#
# Exit status: the command's (bash -e: the first failing line stops it).
set -uo pipefail

scratch=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlops-step-files-XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
names=()
reals=()
for name in GITHUB_ENV GITHUB_PATH GITHUB_OUTPUT GITHUB_STATE GITHUB_STEP_SUMMARY; do
  real=${!name:-}
  [ -n "$real" ] || continue # outside Actions there are none, and nothing to hide
  names+=("$name")
  reals+=("$real")
  [ -e "$real" ] && cp -- "$real" "$scratch/$name.before"
  : >"$scratch/$name"
  export "$name=$scratch/$name"
done

status=0
bash --noprofile --norc -eo pipefail -c "${MLOPS_INSTALL:?}" || status=$?

changed=()
for i in "${!names[@]}"; do
  name=${names[$i]}
  real=${reals[$i]}
  tried=false
  [ -s "$scratch/$name" ] && tried=true
  if [ -e "$scratch/$name.before" ]; then
    if [ -L "$real" ] || ! cmp -s -- "$scratch/$name.before" "$real"; then
      rm -f -- "$real" && cp -- "$scratch/$name.before" "$real" ||
        echo "::error::$name: cannot put it back"
      tried=true
    fi
  elif [ -e "$real" ] || [ -L "$real" ]; then
    rm -f -- "$real"
    tried=true
  fi
  "$tried" && changed+=("$name")
done
if [ "${#changed[@]}" -gt 0 ]; then
  list=$(printf '%s, ' "${changed[@]}")
  echo "::warning::the install command wrote to ${list%, }; ignored: code that the install runs cannot set the environment, PATH, outputs or summary of this job's steps (README: Security model)"
fi
exit "$status"
