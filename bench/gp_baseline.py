"""scikit-learn baseline for the GP preprocessing benchmark (bench/Classifier.Bench launches it).

Same model as src/Classifier/GaussianProcessInterpolator: GaussianProcessRegressor with
ConstantKernel((0.5*scale)^2, bounds e^±10 around it) * Matern(nu=1.5, length_scale=[20, 6000],
bounds [(1, 1000), (6000, 6000)] i.e. the wavelength scale fixed), alpha = flux_err^2, zero mean
(normalize_y=False), L-BFGS-B, no restarts; then the mean on np.linspace(0, tmax, 100) per band and
RobustScaler-style scaling. Input CSV rows: object_id, t (days from first point), wavelength, flux, flux_err.

Protocol on stdin/stdout: prints "ready N" once loaded; each line "go" fits all N light curves and
answers "done <microseconds per light curve>". Single-threaded BLAS (per-core figures).
"""
import os
for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[k] = "1"
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=UserWarning)


def load(path):
    rows = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=None, encoding="utf-8",
                         names=["id", "t", "w", "f", "e"])
    objs = {}
    for r in rows:
        objs.setdefault(r["id"], []).append((r["t"], r["w"], r["f"], r["e"]))
    return [np.array(v, dtype=float) for v in objs.values()]


def features(a, bands, return_gp=False):
    x, y, e = a[:, :2], a[:, 2], a[:, 3]
    snr = np.abs(y) / np.sqrt(e ** 2 + (1e-2 * np.max(y)) ** 2)
    scale = np.abs(y[np.argmax(snr)])
    c0 = (0.5 * scale) ** 2
    kernel = ConstantKernel(c0, (c0 * np.exp(-10), c0 * np.exp(10))) * Matern(
        length_scale=[20.0, 6000.0], length_scale_bounds=[(1.0, 1000.0), (6000.0, 6000.0)], nu=1.5)
    gp = GaussianProcessRegressor(kernel=kernel, alpha=e ** 2, normalize_y=False, n_restarts_optimizer=0)
    gp.fit(x, y)
    grid = np.linspace(0, x[:, 0].max(), 100)
    out = np.empty((100, len(bands)))
    for i, w in enumerate(bands):
        out[:, i] = gp.predict(np.column_stack([grid, np.full(100, w)]))
    med = np.median(out, axis=0)
    iqr = np.percentile(out, 75, axis=0) - np.percentile(out, 25, axis=0)
    iqr[iqr == 0] = 1
    return ((out - med) / iqr, gp) if return_gp else (out - med) / iqr


def main():
    lcs = load(sys.argv[1])
    bands = [float(b) for b in sys.argv[2].split(",")]
    if len(sys.argv) > 3 and sys.argv[3] == "--emit":
        # Cross-check mode (tests/Classifier.Tests): one JSON line per light curve with the fitted
        # hyper-parameters and the robust-scaled [100, bands] output.
        import json
        for a in lcs:
            out, gp = features(a, bands, return_gp=True)
            k = gp.kernel_
            print(json.dumps({"amplitude": float(k.k1.constant_value), "length_scale": float(k.k2.length_scale[0]),
                              "nll": float(-gp.log_marginal_likelihood_value_), "x": out.flatten().tolist()}))
        return
    print(f"ready {len(lcs)}", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        t0 = time.perf_counter()
        for a in lcs:
            features(a, bands)
        print(f"done {(time.perf_counter() - t0) * 1e6 / len(lcs):.1f}", flush=True)


if __name__ == "__main__":
    main()
