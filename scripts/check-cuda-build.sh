#!/usr/bin/env bash
# Builds native/ against a CUDA LibTorch and runs the test suite on that build, on a machine without a
# GPU: native/cuda/ compiles, the addon links libtorch_cuda, and everything that needs no device passes
# (test/cuda/ skips, saying why); the CUDA-dependent files also compile as C++17, as LibTorch up to 2.13
# needs (scripts/check-cuda-cxx17.js, with the headers of the LibTorch the main build found). The CUDA LibTorch is PyTorch's
# CUDA wheel, installed with pip into .cuda-check/venv (about 7 GB); the copy of the project it builds is
# .cuda-check/src.
# .ci/run calls it after `npm test`. Where no CUDA wheel can be installed it says so and exits 0; a
# build or test failure fails it.
#   TORCHNODE_CUDA_TORCH_SPEC  the wheel to install (default torch==2.14.*, the CUDA build on PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SPEC="${TORCHNODE_CUDA_TORCH_SPEC:-torch==2.14.*}"
CHECK="$ROOT/.cuda-check"
VENV="$CHECK/venv"
mkdir -p "$CHECK"

skip() {
  echo "check-cuda-build: skipped, $1"
  exit 0
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # --no-deps, then the wheel's own requirements minus the Python-only GPU packages (cuda-bindings,
  # triton) that LibTorch does not need and that a wheel cache may not hold.
  "$VENV/bin/python" -m pip install --quiet --retries 0 --no-deps "$SPEC" >"$CHECK/pip.log" 2>&1 ||
    skip "pip could not install $SPEC (see $CHECK/pip.log)"
  "$VENV/bin/python" - >"$CHECK/requirements.txt" <<'EOF'
import importlib.metadata as md
for req in md.requires('torch') or []:
    spec, _, marker = req.partition(';')
    name = spec.split('[')[0].split('=')[0].split('<')[0].split('>')[0].split('~')[0].strip()
    if 'extra ==' in marker or name in ('cuda-bindings', 'triton'):
        continue
    print(spec.strip())
EOF
  "$VENV/bin/python" -m pip install --quiet --retries 0 -r "$CHECK/requirements.txt" >>"$CHECK/pip.log" 2>&1 ||
    skip "pip could not install the CUDA libraries $SPEC needs (see $CHECK/pip.log)"
fi
read -r VERSION CUDA < <("$VENV/bin/python" -W ignore -c 'import torch; print(torch.__version__, torch.version.cuda)')
[ "$CUDA" != "None" ] || skip "$SPEC installed PyTorch $VERSION, a CPU build"
echo "check-cuda-build: PyTorch $VERSION with CUDA $CUDA in $VENV"

# A copy of the project without its build outputs, and node_modules hard-linked.
rm -rf "$CHECK/src"
mkdir -p "$CHECK/src"
tar -c --exclude=./.git --exclude=./node_modules --exclude=./build --exclude=./dist --exclude=./.libtorch \
  --exclude=./.cuda-check --exclude=./.gpu --exclude=./prebuilds . | tar -x -C "$CHECK/src"
cp -al node_modules "$CHECK/src/node_modules"
# The LibTorch of the main build (python3's PyTorch, or npm install's .libtorch/), for the C++17 check.
CXX17_TORCH=$(node -p 'require("./scripts/libtorch.js").findLibTorch().root')
cd "$CHECK/src"
export TORCHNODE_PYTHON="$VENV/bin/python"
node scripts/build-native.js
node scripts/check-cuda-cxx17.js build "$("$VENV/bin/python" -W ignore -c 'import os, torch; print(os.path.dirname(torch.__file__))')" "$CXX17_TORCH"
npx tsc -p tsconfig.json
npx vitest run
