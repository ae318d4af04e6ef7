#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image (with network):
# bubblewrap (the sandbox) and Python 3.11+ from apt; gradekit with the @ASSIGNMENT@ checks and
# reference solutions into /autograder/venv, its dependencies from the package registries; the
# datasets the checks read into /autograder/data, each file checked against its SHA-256 before
# it enters the cache. Grading itself downloads nothing.
# GRADEKIT_SETUP_OFFLINE=1: no apt and no download, the dependencies being importable already
# (the test suite runs this script that way).
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$SOURCE")"
OFFLINE="${GRADEKIT_SETUP_OFFLINE:-}"

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

if [ -z "$OFFLINE" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq bubblewrap
fi
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && new_enough "$candidate"; then PYTHON="$candidate"; break; fi
done
if [ -z "$PYTHON" ] && [ -z "$OFFLINE" ]; then
  apt-get install -y -qq python3.11
  PYTHON=python3.11
fi
[ -n "$PYTHON" ] || { echo "setup.sh: no Python 3.11 or newer, and no apt to install one" >&2; exit 1; }
if [ -z "$OFFLINE" ] && ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
  apt-get install -y -qq "$(basename "$PYTHON")-venv"  # Debian keeps venv's pip apart
fi
[ -x "$ROOT/venv/bin/python" ] || "$PYTHON" -m venv "$ROOT/venv"
PIP=("$ROOT/venv/bin/python" -m pip install -q)
if [ -n "$OFFLINE" ]; then
  "${PIP[@]}" --no-deps --no-build-isolation "$SOURCE/@PROJECT@"
else
  # Gradescope has no GPU: the CPU build of torch is about a tenth of the CUDA build
  "${PIP[@]}" --index-url https://download.pytorch.org/whl/cpu torch torchvision
  "${PIP[@]}" "$SOURCE/@PROJECT@"
fi
DATASETS=(@DATASETS@)
if [ "${#DATASETS[@]}" -gt 0 ]; then
  export GRADEKIT_DATA_DIR="$ROOT/data"
  "$ROOT/venv/bin/data-fetch" get "${DATASETS[@]}"
  "$ROOT/venv/bin/data-fetch" verify "${DATASETS[@]}"
  chmod -R a+rX,go-w "$ROOT/data"  # the sandboxed worker reads it as another user
fi
echo "setup.sh: gradekit for @ASSIGNMENT@ is installed in $ROOT/venv"
