#!/usr/bin/env bash
# Reproduces a shipped model end to end: simulate -> C# features -> train (PyTorch) -> C# evaluation
# (held-out simulated objects, and the real ZTF BTS light curves when ../shared/data is present) -> model card.
#
#   tools/train/train_model.sh ztf  [objects] [work dir]     -> models/t2-ztf.onnx, models/t2-ztf.md
#   tools/train/train_model.sh lsst [objects] [work dir]     -> models/t2-lsst.onnx, models/t2-lsst.md
set -euo pipefail
cd "$(dirname "$0")/../.."
survey=${1:?usage: train_model.sh ztf|lsst [objects] [workdir]}
objects=${2:-6000}
work=${3:-/tmp/alerts-train-$survey}
budget=${BUDGET_MINUTES:-12}   # wall-clock cap on training (2 shared cores)
# Debian's python3-torch calls the generic libblas.so.3; with the reference BLAS behind it an epoch is ~4x slower than
# with OpenBLAS (apt-get install libopenblas0-pthread switches the alternative). OPENBLAS_NUM_THREADS keeps it to THREADS.
export OPENBLAS_NUM_THREADS=${THREADS:-2}
mkdir -p "$work" models
[ -n "${NO_BUILD:-}" ] || dotnet build -c Release src/Pipeline -v q -nologo >/dev/null
alerts() { dotnet src/Pipeline/bin/Release/net10.0/alerts.dll "$@"; }

# Balanced classes (the PLAsTiCC metric averages per class); tables only: training reads the light-curve table.
alerts simulate --survey "$survey" --objects "$objects" --balanced --format none --seed "${SEED:-7}" --out "$work/sim"
# Alert-like inputs: besides each full light curve, ALERT_SAMPLES truncated histories per object (the detections an
# alert at a random detection time carries, in the survey's alert history window), so training sees what serving sees.
alerts features --survey "$survey" --lightcurves "$work/sim/lightcurves.csv" --labels "$work/sim/labels.csv" --out "$work/features.npz" \
  --alert-samples "${ALERT_SAMPLES:-4}" --sample-seed "${SEED:-7}"
# INIT=models/t2-<survey>.pt fine-tunes the shipped model instead of starting from random weights.
/usr/bin/python3 tools/train/train_t2.py --features "$work/features.npz" --out "models/t2-$survey" ${INIT:+--init "$INIT"} \
  --heldout-ids "$work/heldout.txt" --budget-minutes "$budget" --threads "${THREADS:-2}" \
  ${HEADS:+--heads "$HEADS"} ${EPOCHS:+--epochs "$EPOCHS"} 2> "$work/train.log"
# Alert-level held-out metrics: other alert times (seed + 1000) of the held-out objects, truncated histories only.
alerts evaluate --survey "$survey" --model "models/t2-$survey.onnx" --lightcurves "$work/sim/lightcurves.csv" \
  --labels "$work/sim/labels.csv" --ids "$work/heldout.txt" --alert-samples 4 --no-full --sample-seed "$(( ${SEED:-7} + 1000 ))" --json > "$work/eval-sim-alerts.json"
alerts evaluate --survey "$survey" --model "models/t2-$survey.onnx" --lightcurves "$work/sim/lightcurves.csv" \
  --labels "$work/sim/labels.csv" --ids "$work/heldout.txt" --json > "$work/eval-sim.json"
bts=""
if [ "$survey" = ztf ] && [ -d ../shared/data/labelled/ztf-bts-antares ]; then
  alerts evaluate --survey ztf --model models/t2-ztf.onnx --bts ../shared/data/labelled/ztf-bts-antares --json > "$work/eval-bts.json"
  bts="$work/eval-bts.json"
fi
/usr/bin/python3 tools/train/model_card.py --survey "$survey" --objects "$objects" --metrics "models/t2-$survey.metrics.json" \
  --eval-sim "$work/eval-sim.json" --eval-sim-alerts "$work/eval-sim-alerts.json" ${bts:+--eval-bts "$bts"} --train-log "$work/train.log" --out "models/t2-$survey.md"
echo "models/t2-$survey.onnx and models/t2-$survey.md written"
