"""PyTorch eager baseline for the inference benchmark (bench/Classifier.Bench launches it).

Loads the t2 state_dict that matches the ONNX file under test (same weights), one intra-op thread
(per-core figures), no_grad, eval mode. Protocol: prints "ready"; each line "go <batch> <alerts>" runs
<alerts> random inputs in batches of <batch> and answers "done <microseconds per alert>".
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "train"))
from t2_model import load_trained  # noqa: E402


def main():
    state, bands = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    model = load_trained(state, bands)   # the head count from the .pt's metrics.json: same weights, same graph
    model.eval()
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] != "go":
            break
        batch, alerts = int(parts[1]), int(parts[2])
        x = torch.randn(alerts, 100, bands)
        with torch.no_grad():
            t0 = time.perf_counter()
            for s in range(0, alerts, batch):
                model(x[s:s + batch])
            dt = time.perf_counter() - t0
        print(f"done {dt * 1e6 / alerts:.2f}", flush=True)


if __name__ == "__main__":
    main()
