#!/usr/bin/env bash
# The project's GPU check (issue 17): one script, one JSON file of figures, under 8 minutes on one
# CUDA GPU with a fresh install. From the repository root:
#
#   bash benchmarks/gpu_check.sh                      # cuda: every figure, into gpu_check.json
#   DEVICE=cpu bash benchmarks/gpu_check.sh           # dry run on the CPU, tiny sizes (what the tests run)
#
# Steps (each timed; a failing step is recorded and the rest still run; the exit code is 1 if any failed):
#   1. install: `pip install -e .[dev]` unless vitocc already imports (INSTALL=1 forces it)
#   2. the test suite's device tests on $DEVICE (`pytest -m device`, VITOCC_TEST_DEVICE); SKIP_TESTS=1 skips
#   3. a small generated data set (`vitocc synth`)
#   4. training steps/s of the default preset with AMP (training.amp=auto: bf16 on GPUs that have it),
#      and a 2-process DDP run (torchrun) when 2 GPUs are visible
#   5. MISE shapes/s at batch 1/8/32 with the shipped model (benchmarks/gpu_check.py mise), and on the last
#      batch the folded decoder against its plain layers (`decoder.fold = False`)
#   6. `vitocc reconstruct` latency of one example (fresh process, 3 runs)
#   7. `vitocc mise` + `vitocc evaluate` of the trained run on the generated test split
# Settings: DEVICE (cuda|cpu), OUT (JSON file, default gpu_check.json), WORK (scratch folder, default a
# new temporary one), TRAIN_STEPS (default 60 on cuda), KEEP_WORK=1 to keep the scratch folder.
set -u -o pipefail
cd "$(dirname "$0")/.."

DEVICE=${DEVICE:-cuda}
OUT=${OUT:-gpu_check.json}
WORK=${WORK:-$(mktemp -d -t vitocc-gpu-check-XXXXXX)}
PY=${PYTHON:-python}
HELPER="$PY benchmarks/gpu_check.py"
FAILED=()
START=$(date +%s.%N)
export HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

if [ "$DEVICE" = cpu ]; then  # dry mode: every step, tiny sizes
  GPU=-1; SYNTH=(--classes chair,table --shapes-per-class 4 --views 2 --points 4000 --workers 1)
  TRAIN_SET=(--set training.batch_size=2 --set data.img_size=32 --set data.points_subsample=128
             --set model.hidden_size=32 --set data.num_workers=0)
  TRAIN_STEPS=${TRAIN_STEPS:-4}; LOG_EVERY=1; MISE_ARGS=(--batches 1 2 --resolution 8 --repeats 1)
  GEN_SET=(--resolution 8 --upsampling 1); EVAL_SET=(--workers 1); RECON_RUNS=1
else
  GPU=0; SYNTH=(--classes chair,table,airplane,car --shapes-per-class 24 --views 4 --points 20000 --workers 8)
  TRAIN_SET=(--set data.num_workers=6)
  TRAIN_STEPS=${TRAIN_STEPS:-60}; LOG_EVERY=10; MISE_ARGS=(--batches 1 8 32 --repeats 2)
  GEN_SET=(); EVAL_SET=(); RECON_RUNS=3
fi
rm -f "$OUT"
echo "gpu_check: DEVICE=$DEVICE OUT=$OUT WORK=$WORK"

now() { date +%s.%N; }
since() { $PY -c "import sys; print(round($(now) - $1, 2))"; }
step() {  # step NAME COMMAND...: run, time, record rc and seconds
  local name=$1; shift
  echo "== $name"
  local t0; t0=$(now)
  "$@"
  local rc=$?
  $HELPER record "$OUT" "steps.$name" "{\"rc\": $rc, \"seconds\": $(since "$t0")}"
  [ $rc -eq 0 ] || { FAILED+=("$name"); echo "!! $name failed (rc $rc)"; }
  return $rc
}

if [ "${INSTALL:-0}" = 1 ] || ! $PY -c "import vitocc" 2>/dev/null; then
  step install $PY -m pip install -q -e ".[dev]"
fi
$HELPER record "$OUT" environment "$($PY - "$DEVICE" <<'EOF'
import json, platform, sys
import torch
device = sys.argv[1]
info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
        "device": device, "gpus": torch.cuda.device_count() if torch.cuda.is_available() else 0}
if info["gpus"]:
    info["gpu_names"] = [torch.cuda.get_device_name(i) for i in range(info["gpus"])]
    info["bf16"] = torch.cuda.is_bf16_supported()
print(json.dumps(info))
EOF
)"
NGPU=$($PY -c "import json; print(json.load(open('$OUT'))['environment']['gpus'])")
if [ "$DEVICE" != cpu ] && [ "$NGPU" -lt 1 ]; then
  echo "DEVICE=$DEVICE but torch sees no CUDA GPU (DEVICE=cpu runs the dry mode)"; exit 2
fi

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  step device_tests env VITOCC_TEST_DEVICE="$DEVICE" $PY -m pytest -m device -q -p no:cacheprovider
fi

step synth vitocc -q synth --dest "$WORK/data" "${SYNTH[@]}"

COMMON=(--config default --data "$WORK/data" --max-steps "$TRAIN_STEPS" --set training.amp=auto
        --set training.log_every=$LOG_EVERY --set training.validate_every=100000
        --set training.checkpoint_every=100000 "${TRAIN_SET[@]}")
if step train_default_amp vitocc -q train --out "$WORK/run" --gpu "$GPU" "${COMMON[@]}"; then
  $HELPER train-rate "$WORK/run" "$OUT" train.default_amp
fi
if [ "$DEVICE" != cpu ] && [ "$NGPU" -ge 2 ]; then
  if step train_ddp_2gpu $PY -m torch.distributed.run --standalone --nproc_per_node=2 -m vitocc -q train \
      --out "$WORK/run-ddp" "${COMMON[@]}"; then
    $HELPER train-rate "$WORK/run-ddp" "$OUT" train.ddp_2gpu
  fi
else
  $HELPER record "$OUT" train.ddp_2gpu "\"skipped: $NGPU GPU(s) visible\""
fi

step mise_batches $HELPER mise "$OUT" --device "$DEVICE" "${MISE_ARGS[@]}"

reconstruct_latency() {
  local walls=()
  for _ in $(seq "$RECON_RUNS"); do
    local t0; t0=$(now)
    vitocc -q reconstruct examples/chair.png -o "$WORK/chair.obj" --overwrite --gpu "$GPU" "${GEN_SET[@]}" || return 1
    walls+=("$(since "$t0")")
  done
  $HELPER record "$OUT" reconstruct_seconds "[$(IFS=,; echo "${walls[*]}")]"
}
step reconstruct reconstruct_latency

if [ -f "$WORK/run/checkpoints/last.pt" ]; then
  step mise_split vitocc -q mise "$WORK/run" --split test --gpu "$GPU" "${GEN_SET[@]}" \
    && step evaluate vitocc -q evaluate "$WORK/run" --split test "${EVAL_SET[@]}" \
    && $HELPER record "$OUT" evaluate "$(cat "$WORK/run/evaluation/test/summary.json")"
fi

$HELPER record "$OUT" total_seconds "$(since "$START")"
$HELPER record "$OUT" failed "$($PY -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "${FAILED[@]+"${FAILED[@]}"}")"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
echo "gpu_check: $(since "$START") s, figures in $OUT; failed: ${FAILED[*]:-none}"
[ ${#FAILED[@]} -eq 0 ]
