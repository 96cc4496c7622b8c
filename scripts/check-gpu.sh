#!/usr/bin/env bash
# Everything a GPU session verifies, in one device call (device time is scarce; ../shared/gpu/README.md):
#
#     bash ../shared/gpu/pack.sh                                   # here, once
#     run: bash .gpu/on-device.sh 'bash scripts/check-gpu.sh'      # carry [".gpu"], timeout_s 580
#
# Steps, most important first, each under its own time limit so one hang cannot spend the rest:
# build against the machine's CUDA LibTorch, the CUDA tests (test/cuda with NCCL, the torch.cuda API,
# AMP), the training and TorchScript benchmarks (issue 6's table), then, if time is left, the whole
# suite on the CUDA build.
# Each step's output goes to $OUT/<step>.log (.gpu-check/ without $OUT); summary.txt lists each step's
# exit status and seconds, and the benchmark tables. The whole run stays under TORCHNODE_GPU_BUDGET_S
# seconds (default 520: a device call may run 600 s, unpacking node takes some, and starting the
# machine takes minutes of the session's 15).
# Only the build failing stops the run; the exit status is the first failing step's.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$PWD/.gpu-check}
mkdir -p "$out"
rm -f "$out"/*.log # a log from an earlier run must not be read as this one's
budget=${TORCHNODE_GPU_BUDGET_S:-520}
summary="$out/summary.txt"
export NO_COLOR=1 FORCE_COLOR=0 # plain logs
: >"$summary"
status=0

# step NAME LIMIT_S COMMAND [optional]: runs COMMAND with at most LIMIT_S seconds (less if the budget is
# short). An optional step runs only with at least LIMIT_S seconds left, and its result is not the run's.
step() {
  local name=$1 limit=$2 cmd=$3 optional=${4:-} left rc t0
  left=$((budget - SECONDS))
  if [ -n "$optional" ] && [ "$left" -lt "$limit" ]; then
    echo "$name: not run (optional; $left s of the budget left, it wants $limit)" | tee -a "$summary"
    return 0
  fi
  if [ "$left" -lt 30 ]; then
    echo "$name: not run, the budget ($budget s) is spent" | tee -a "$summary"
    [ "$status" -ne 0 ] || status=124
    return 124
  fi
  [ "$limit" -le "$left" ] || limit=$left
  t0=$SECONDS
  timeout -k 10 "$limit" bash -c "$cmd" >"$out/$name.log" 2>&1
  rc=$?
  printf '%-12s rc=%-3s %4ss  (limit %ss)\n' "$name" "$rc" $((SECONDS - t0)) "$limit" | tee -a "$summary"
  [ -n "$optional" ] || [ "$rc" -eq 0 ] || [ "$status" -ne 0 ] || status=$rc
  return "$rc"
}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
  echo "node $(node --version), $(nproc) cores"
} | tee -a "$summary"

if ! step build 200 'npm run build'; then
  tail -n 40 "$out/build.log"
  exit "$status"
fi
node -e "const t = require('./dist'); console.log('torchnode build', JSON.stringify(t.buildInfo), '| cuda.isAvailable', t.cuda.isAvailable(), '| NCCL', t.distributed.isNcclAvailable())" 2>&1 | tee -a "$summary"
# test/cuda holds the NCCL test too (test/cuda/nccl.test.ts); a skip prints its reason, kept in the summary.
step cuda-tests 120 'npx vitest run test/cuda test/cuda.api.test.ts test/amp.test.ts --reporter=verbose'
grep -E "Test Files|Tests |✗|×|FAIL|skipped:" "$out/cuda-tests.log" | head -40 | tee -a "$summary"
# bench/train.js prints each configuration's row as it ends: a run cut short keeps what it measured.
step bench-train 220 'node scripts/bench/train.js --preset gpu'
grep -vE "^\s*$" "$out/bench-train.log" | tail -n 14 | tee -a "$summary"
step bench-jit 60 'node scripts/bench/jit.js'
tail -n 3 "$out/bench-jit.log" | tee -a "$summary"
# The whole suite on the CUDA build: only with time to spare, and not part of the verdict.
step suite 200 'npx vitest run' optional
[ ! -f "$out/suite.log" ] || grep -E "Test Files|Tests |FAIL" "$out/suite.log" | head -30 | tee -a "$summary"
exit "$status"
