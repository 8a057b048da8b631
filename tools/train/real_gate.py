"""Writes the compression stage's accuracy-gate set from a real features file: the original (not augmented) rows,
whole curves and day views, as x float32 [N, steps, channels] and y int64 [N].

usage: real_gate.py REAL.npz OUT.npz     (OUT stays in the work folder: its rows derive from ../shared data)
"""
import sys

import numpy as np

real = np.load(sys.argv[1])
keep = (real["augmented"] == 0) & (real["alert_sample"] == 0)
rng = np.random.default_rng(5)
idx = rng.permutation(np.flatnonzero(keep))   # mixed order: the first rows calibrate, and should not all be one class
np.savez(sys.argv[2], x=real["X"][idx].astype(np.float32), y=real["y"][idx].astype(np.int64))
print(f"{len(idx)} original real rows -> {sys.argv[2]}")
