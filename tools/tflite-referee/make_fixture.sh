#!/bin/sh
# Regenerates tests/Interop.Tests/Fixtures/fink-t2-{inputs,tflite-outputs}.npy: our own inputs (simulated light curves
# through the fink-t2 preset, plus random and edge tensors) and the outputs TFLite itself computes for them.
#   tools/tflite-referee/make_fixture.sh [path/to/model.tflite]
# Needs: a Release build of src/Pipeline, /usr/bin/python3 with numpy, node + `npm ci` here, /usr/bin/chromium.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
model=${1:-$root/../shared/data/models/fink-t2/quantized-model-GR-noZ-28341-1654269564-0.5.1.dev73+g70f85f8-LL0.836.tflite}
alerts=$root/src/Pipeline/bin/Release/net10.0/alerts
fixtures=$root/tests/Interop.Tests/Fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$alerts" simulate --objects 280 --balanced --format none --out "$work/sim" --seed 2026 >/dev/null
"$alerts" features --lightcurves "$work/sim/lightcurves.csv" --labels "$work/sim/labels.csv" --preset fink-t2 --out "$work/sim.npz" --workers 1 >/dev/null
/usr/bin/python3 "$here/make_inputs.py" "$work/sim.npz" "$fixtures/fink-t2-inputs.npy" "$fixtures/fink-t2-input-kinds.txt"
(cd "$here" && [ -d node_modules ] || npm ci --no-audit --no-fund)
node "$here/referee.mjs" --model "$model" --inputs "$fixtures/fink-t2-inputs.npy" --out "$fixtures/fink-t2-tflite-outputs.npy"
sha256sum "$model" | cut -d' ' -f1 > "$fixtures/fink-t2-model.sha256"
