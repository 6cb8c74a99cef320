#!/usr/bin/env bash
# Encoders and features at equal CPU budget: each configuration trains for the same wall time
# (BUDGET seconds, constant learning rate after a short warm-up, so a stop on time is fair),
# then is scored by point IoU (100k points per shape, view 000, no meshing) on the synthetic
# test split and on the real-geometry split (docs/real-objects.md). Training points are the
# paper's uniform draws and the threshold its 0.2: near-surface draws need a kd-tree query per
# shape the first time it is seen, which would eat a short budget.
#
#   bash benchmarks/encoder_ablation.sh DATA REAL_SPLIT OUT [BUDGET=300] [SEED=0] [NAMES]
#
# DATA: a `vitocc synth` set; REAL_SPLIT: the 35 real meshes through `vitocc build-dataset`;
# NAMES: some of the configurations below, comma-separated (default: all six).
# PARALLEL=1 (environment): train the chosen configurations at once, one thread each, so that
# whatever else runs on the machine slows them alike; the budget then buys each half the CPU.
# Run it alone on the machine: a budget in seconds means nothing beside another job.
set -euo pipefail
data=$1; real=$2; out=$3; budget=${4:-300}; seed=${5:-0}
all=hybrid-pixel-pretrained,hybrid-global-pretrained,hybrid-pixel-scratch,lite0-global-pretrained,resnet18-global-scratch,vit-tiny-global-scratch
names=${6:-$all}
here="$(cd "$(dirname "$0")" && pwd)"
common=(--config hybrid-pixel-cpu --data "$data" --gpu -1 --max-time "$budget"
        --set training.schedule=constant --set training.warmup_steps=100 --set training.max_steps=100000
        --set training.validate_every=1000000 --set training.checkpoint_every=500 --set training.seed="$seed"
        --set data.surface_fraction=0 --set test.threshold=0.2 --set generation.threshold=0.2)
declare -A configs=(
  [hybrid-pixel-pretrained]=""
  [hybrid-global-pretrained]="model.pixel_aligned=false"
  [hybrid-pixel-scratch]="model.pretrained=false model.freeze_stem=false"
  [lite0-global-pretrained]="model.encoder=tf_efficientnet_lite0 model.pixel_aligned=false"
  [resnet18-global-scratch]="model.encoder=resnet18 model.pixel_aligned=false model.pretrained=false"
  [vit-tiny-global-scratch]="model.encoder=vit_tiny_patch16_224 model.pixel_aligned=false model.pretrained=false"
)
pids=()
for name in ${names//,/ }; do
  [ -n "${configs[$name]+set}" ] || { echo "unknown configuration $name (one of $all)" >&2; exit 2; }
  run="$out/$name-s$seed"
  sets=()
  for kv in ${configs[$name]}; do sets+=(--set "$kv"); done
  [ -f "$run/checkpoints/last.pt" ] && continue
  if [ "${PARALLEL:-0}" = 1 ]; then
    vitocc -q train "${common[@]}" "${sets[@]}" --set training.threads=1 --out "$run" & pids+=($!)
  else
    vitocc -q train "${common[@]}" "${sets[@]}" --out "$run"
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done  # a failed run stops the script here
for split in "$data:22" "$real:10"; do
  python "$here/../scripts/split_iou.py" "$out"/*-s"$seed" --splits test --per-class "${split##*:}" \
    --data "${split%:*}" --threads 2
done
