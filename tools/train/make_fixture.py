"""Writes a test fixture: a t2 model (randomly initialised, or trained weights from a checkpoint) exported to ONNX,
plus a few fixed inputs and the PyTorch outputs on them, so the C# tests can check ONNX Runtime against PyTorch.

    /usr/bin/python3 tools/train/make_fixture.py --bands ztfg,ztfr --out tests/Classifier.Tests/Fixtures/t2-random-ztf
writes <out>.onnx, <out>.pt (state_dict) and <out>.fixture.json ({"bands", "steps", "inputs": [[...]], "outputs": [[...]]}).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t2_model import T2, export_onnx, load_trained  # noqa: E402


def add_metadata(path: str, preset: str, bands, training_objects: str | None = None, extra=None) -> None:
    """Tags the ONNX file with the preprocessing preset so the C# classifier picks the right recipe, and, when given,
    the rule naming the real objects it was trained on (alerts.training_objects, e.g. md5-first-hex:01234567), which
    `alerts evaluate` uses to leave them out, and any extra key/value pairs (e.g. alerts.temperature)."""
    import onnx
    m = onnx.load(path)
    entries = [("alerts.preprocessing", preset), ("alerts.channels", ",".join(bands))]
    if training_objects:
        entries.append(("alerts.training_objects", training_objects))
    entries += sorted((extra or {}).items())
    for k, v in entries:
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)


def write_fixture(model, bands, x, path: str) -> None:
    """<path>: {"bands", "steps", "inputs", "outputs"}: the model's PyTorch outputs on inputs x [n, steps, bands], for
    the C# test that ONNX Runtime computes the same. x is rounded to what the JSON keeps, so PyTorch sees exactly what
    the test feeds ONNX Runtime."""
    x = torch.round(x * 1e6) / 1e6
    with torch.no_grad():
        y = model(x)
    with open(path, "w") as f:
        json.dump({"bands": list(bands), "steps": int(x.shape[1]),
                   "inputs": [row.flatten().tolist() for row in x],
                   "outputs": [row.tolist() for row in y]}, f)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bands", default="ztfg,ztfr")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--checkpoint", help="state_dict (.pt) of a trained T2 instead of random weights")
    a = ap.parse_args()
    bands = a.bands.split(",")
    torch.manual_seed(a.seed)
    model = load_trained(a.checkpoint, len(bands)) if a.checkpoint else T2(len(bands))
    model.eval()
    x = torch.randn(a.samples, 100, len(bands))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    export_onnx(model, a.out + ".onnx")
    torch.save(model.state_dict(), a.out + ".pt")   # the same weights for PyTorch-side benchmarks
    add_metadata(a.out + ".onnx", "t2-ztf" if bands[0].startswith("ztf") else "t2-lsst", bands)
    write_fixture(model, bands, x, a.out + ".fixture.json")
    print(f"wrote {a.out}.onnx ({os.path.getsize(a.out + '.onnx')} B) and {a.out}.fixture.json", file=sys.stderr)


if __name__ == "__main__":
    main()
