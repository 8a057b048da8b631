#!/usr/bin/python3
"""Builds the referee's input tensors [N, 100, 2] from our own data only (nothing from ../shared):
simulated ZTF light curves through `alerts features --preset fink-t2`, plus seeded random and edge-case tensors.

    /usr/bin/python3 make_inputs.py SIM_FEATURES.npz OUT_INPUTS.npy OUT_KINDS.txt
"""
import sys
import numpy as np

features, out, kinds_out = sys.argv[1], sys.argv[2], sys.argv[3]
x_sim = np.load(features)["X"].astype(np.float32)
steps, bands = 100, 2
rng = np.random.default_rng(20261129)
t = np.linspace(0, 1, steps, dtype=np.float32)

rows, kinds = [], []
def add(kind, a):
    rows.append(np.asarray(a, dtype=np.float32).reshape(steps, bands)); kinds.append(kind)

for a in x_sim[:220]:
    add("simulated-fink-t2", a)
add("zeros", np.zeros((steps, bands)))
add("ones", np.ones((steps, bands)))
add("minus-ones", -np.ones((steps, bands)))
add("g-only", np.stack([rng.normal(size=steps), np.zeros(steps)], 1))
add("r-only", np.stack([np.zeros(steps), rng.normal(size=steps)], 1))
add("step", np.stack([np.where(t < 0.5, -1, 1), np.where(t < 0.3, -2, 2)], 1))
for scale in (1e-6, 1e-3, 10.0, 1e3, 1e5):
    add(f"normal-x{scale:g}", rng.normal(size=(steps, bands)) * scale)
for k in range(1, 6):
    add(f"sine-{k}", np.stack([np.sin(2 * np.pi * k * t), np.cos(2 * np.pi * k * t)], 1))
for k in range(5):
    peak = rng.uniform(0.1, 0.9); width = rng.uniform(0.02, 0.2)
    g = np.exp(-0.5 * ((t - peak) / width) ** 2); r = np.exp(-0.5 * ((t - peak - 0.05) / (1.5 * width)) ** 2)
    add("transient-shape", np.stack([g, r], 1) * 4 - 1)
while len(rows) < 300:
    if len(rows) % 2:
        add("normal", rng.normal(size=(steps, bands)))
    else:
        add("uniform", rng.uniform(-5, 5, size=(steps, bands)))
x = np.stack(rows).astype(np.float32)
assert np.isfinite(x).all()
np.save(out, x)
with open(kinds_out, "w") as f:
    f.write("\n".join(kinds) + "\n")
print(f"{x.shape[0]} rows: {x_sim[:220].shape[0]} simulated, {x.shape[0] - min(220, x_sim.shape[0])} random/edge -> {out}")
