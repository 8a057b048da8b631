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
mkdir -p "$work" models
dotnet build -c Release src/Pipeline -v q -nologo >/dev/null
alerts() { dotnet src/Pipeline/bin/Release/net10.0/alerts.dll "$@"; }

# Balanced classes (the PLAsTiCC metric averages per class); tables only: training reads the light-curve table.
alerts simulate --survey "$survey" --objects "$objects" --balanced --format none --seed "${SEED:-7}" --out "$work/sim"
alerts features --survey "$survey" --lightcurves "$work/sim/lightcurves.csv" --labels "$work/sim/labels.csv" --out "$work/features.npz"
/usr/bin/python3 tools/train/train_t2.py --features "$work/features.npz" --out "models/t2-$survey" \
  --heldout-ids "$work/heldout.txt" --budget-minutes "$budget" --threads "${THREADS:-2}" 2> "$work/train.log"
alerts evaluate --survey "$survey" --model "models/t2-$survey.onnx" --lightcurves "$work/sim/lightcurves.csv" \
  --labels "$work/sim/labels.csv" --ids "$work/heldout.txt" --json > "$work/eval-sim.json"
bts=""
if [ "$survey" = ztf ] && [ -d ../shared/data/labelled/ztf-bts-antares ]; then
  alerts evaluate --survey ztf --model models/t2-ztf.onnx --bts ../shared/data/labelled/ztf-bts-antares --json > "$work/eval-bts.json"
  bts="$work/eval-bts.json"
fi
/usr/bin/python3 tools/train/model_card.py --survey "$survey" --objects "$objects" --metrics "models/t2-$survey.metrics.json" \
  --eval-sim "$work/eval-sim.json" ${bts:+--eval-bts "$bts"} --train-log "$work/train.log" --out "models/t2-$survey.md"
echo "models/t2-$survey.onnx and models/t2-$survey.md written"
