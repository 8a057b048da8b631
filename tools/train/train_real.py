"""Train the real-sky t2: real labelled ZTF curves (and their augmented copies) plus the simulator, cross-validated by
object, calibrated on held-out real objects, exported to ONNX.

    tools/train/train_real.sh            (the one command: real sets -> C# features -> this script -> compress -> card)

This script reads two `alerts features` files computed with the window preset (t2-ztf-window):
  --real  real labelled curves (tools/train/real_sets.py), with augmented copies, alert samples and day views
  --sim   simulated curves (alerts simulate --balanced), for the classes the real sets lack (AGN, variable stars, KN, ...)

Cross-validation: every real object belongs to fold int(md5(object_id)[1], 16) % 5 (real_sets.py writes the same fold).
For each fold a model trains on the other four folds' real objects (their augmented copies included) and all simulated
rows, with a fixed step budget and schedule (no early stopping on the held-out fold), and predicts the held-out fold's
original (not augmented) rows: whole curves, the day views and the alert samples. Those out-of-fold predictions give
every figure the card reports. The temperature the shipped model carries is fitted on all out-of-fold logits; the
figures quoted after calibration use, for each fold, a temperature fitted on the other folds only.

Outputs (prefix --out, e.g. models/t2-ztf): .onnx (softmax(logits / T), metadata alerts.preprocessing, alerts.channels,
alerts.temperature, alerts.training_objects), .pt, .metrics.json (hyper-parameters, cross-validated metrics per view,
reliability tables, confusion matrices), .oof.npz is NOT written into models/ (it would hold rows derived from
../shared); --work gets the out-of-fold predictions and fold models.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t2_model import CLASSES, T2, export_onnx  # noqa: E402
from make_fixture import add_metadata, write_fixture  # noqa: E402
import real_metrics as rm  # noqa: E402

# md5(object_id) hex digits whose objects the real training half holds (the rule the labelled sets were split by).
TRAINING_HEX = "01234567"


def fold_of(object_id: str, folds: int) -> int:
    return int(hashlib.md5(object_id.encode()).hexdigest()[1], 16) % folds


class Sampler:
    """Class-balanced batches. Each class has a weight; within a class with real rows, a fraction `real_share` of the
    draws come from real (and augmented real) rows, the rest from simulated rows of that class."""

    def __init__(self, y, is_real, class_weights, real_share, rng):
        self.rng = rng
        self.by_class = []
        w = []
        for c in range(len(CLASSES)):
            real = np.flatnonzero((y == c) & is_real)
            sim = np.flatnonzero((y == c) & ~is_real)
            if len(real) + len(sim) == 0:
                continue
            share = real_share if len(real) and len(sim) else (1.0 if len(real) else 0.0)
            self.by_class.append((real, sim, share))
            w.append(class_weights[c])
        self.p = np.array(w) / np.sum(w)

    def batch(self, n):
        cls = self.rng.choice(len(self.by_class), size=n, p=self.p)
        out = np.empty(n, dtype=np.int64)
        for i, k in enumerate(cls):
            real, sim, share = self.by_class[k]
            pool = real if (len(sim) == 0 or (len(real) and self.rng.random() < share)) else sim
            out[i] = pool[self.rng.integers(len(pool))]
        return out


def train(X, y, rows, is_real, a, seed, log, budget_steps):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    named = {k: float(v) for k, v in (kv.split("=") for kv in a.class_weights.split(","))}
    weights = np.array([named.get(c, a.other_weight) for c in CLASSES])
    sampler = Sampler(y[rows], is_real[rows], weights, a.real_share, rng)
    model = T2(X.shape[2], steps=X.shape[1], n_heads=a.heads, ff_dim=a.ff_dim, n_blocks=a.blocks, dropout=a.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    warm = max(1, budget_steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / budget_steps))))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    t0, run = time.time(), 0.0
    model.train()
    for step in range(budget_steps):
        b = torch.from_numpy(rows[sampler.batch(a.batch)])
        xb = Xt[b]
        if a.input_noise > 0:
            # Features are peak-scaled (order 1): jitter the GP means, not the proximity channels.
            half = xb.shape[2] // 2
            xb = torch.cat([xb[:, :, :half] + a.input_noise * torch.randn_like(xb[:, :, :half]), xb[:, :, half:]], dim=2)
        opt.zero_grad()
        loss = loss_fn(model.logits(xb), yt[b])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * float(loss) if step else float(loss)
        if (step + 1) % 250 == 0 or step + 1 == budget_steps:
            log(f"  step {step + 1}/{budget_steps}  loss {run:.4f}  {time.time() - t0:.0f}s")
    model.eval()
    return model


def logits_of(model, X, rows, batch=1024):
    out = []
    with torch.no_grad():
        for s in range(0, len(rows), batch):
            out.append(model.logits(torch.from_numpy(X[rows[s:s + batch]])).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--out", required=True, help="output prefix, e.g. models/t2-ztf")
    ap.add_argument("--work", required=True, help="folder for fold models and out-of-fold predictions (not committed)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cv", type=int, default=5, help="train this many of the folds (all by default; fewer for a quick look)")
    ap.add_argument("--steps", type=int, default=1300, help="optimizer steps per model (fixed: no early stopping)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--input-noise", type=float, default=0.0)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff-dim", type=int, default=128)
    ap.add_argument("--blocks", type=int, default=1)
    ap.add_argument("--real-share", type=float, default=0.85, help="share of real draws within a class that has real rows")
    ap.add_argument("--class-weights", default="SNIa=1.5,SNII=1,SNIbc=1,SLSN-I=1,TDE=1,SNIax=0.3,SNIa-91bg=0.3",
                    help="sampling weight per class (the SN Ia subtypes are few and score as SN Ia)")
    ap.add_argument("--other-weight", type=float, default=0.15, help="sampling weight of each class not in --class-weights (simulated only)")
    ap.add_argument("--calibration", choices=["temperature", "temperature+bias"], default="temperature",
                    help="what the shipped softmax carries: a temperature (keeps every argmax), or a temperature and per-class "
                         "offsets fitted on the out-of-fold logits (the sky's prior; better calibrated, lower rare-class recall)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261208)
    ap.add_argument("--no-final", action="store_true", help="cross-validate only")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    logf = open(os.path.join(a.work, "train.log"), "a")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)
        print(msg, file=logf, flush=True)

    real, sim = np.load(a.real), np.load(a.sim)
    channels = [str(c) for c in real["channels"]]
    if channels != [str(c) for c in sim["channels"]]:
        raise SystemExit(f"{a.sim}: channels {list(sim['channels'])} differ from {a.real}'s {channels}")
    preset = str(real["preset"][0]) if "preset" in real.files else ""
    X = np.concatenate([real["X"], sim["X"]]).astype(np.float32)
    y = np.concatenate([real["y"], sim["y"]]).astype(np.int64)
    n_real = len(real["y"])
    is_real = np.zeros(len(y), bool)
    is_real[:n_real] = True
    objects = real["objects"].astype(str)
    fold = np.array([fold_of(o, a.folds) for o in objects])
    orig = real["augmented"] == 0
    moved = not orig.any()
    if moved:
        # Every real row is a copy moved into another survey's bands (alerts features --augment-from): hold out all the
        # copies of the fold's objects. Coverage cannot be counted per object then (rejected copies leave no row).
        orig = np.ones_like(orig)
    view = real["view"]
    alert = real["alert_sample"] == 1
    whole = np.isnan(view) & ~alert
    n_objects = len(np.unique(objects))
    log(f"{n_real} real rows ({n_objects} objects, " + ("all of them copies moved into these bands" if moved else
        f"{int((real['augmented'] == 0).sum())} original, {int((real['augmented'] != 0).sum())} augmented") + "), "
        f"{len(y) - n_real} simulated rows; preset {preset}; channels {channels}")
    sim_rows = np.arange(n_real, len(y))

    # Objects per fold and class, for coverage: every object has a whole-curve attempt; an object without a row for a
    # view was rejected by the preprocessing (too few detections by then) and counts as not classified.
    uniq, first = np.unique(objects, return_index=True)
    obj_class = {o: int(real["y"][i]) for o, i in zip(uniq, first)}
    obj_fold = {o: fold_of(o, a.folds) for o in uniq}

    oof_logits = np.full((n_real, len(CLASSES)), np.nan, np.float32)
    t_start = time.time()
    for k in range(min(a.cv, a.folds)):
        rows = np.concatenate([np.flatnonzero(fold != k), sim_rows])
        held = np.flatnonzero((fold == k) & orig)
        log(f"fold {k}: {len(rows)} training rows, {len(held)} held-out original rows "
            f"({sum(1 for o in uniq if obj_fold[o] == k)} objects)")
        model = train(X, y, rows, is_real, a, a.seed + k, log, a.steps)
        oof_logits[held] = logits_of(model, X, held)
        torch.save(model.state_dict(), os.path.join(a.work, f"fold{k}.pt"))
        export_onnx(model, os.path.join(a.work, f"fold{k}.onnx"))
        # No training-objects rule on fold models: `alerts evaluate --ids foldK.heldout.txt` scores their held-out fold.
        add_metadata(os.path.join(a.work, f"fold{k}.onnx"), preset, channels)
        with open(os.path.join(a.work, f"fold{k}.heldout.txt"), "w") as f:
            f.write("\n".join(o for o in uniq if obj_fold[o] == k) + "\n")
        log(f"fold {k} done, {time.time() - t_start:.0f}s since start")

    done = ~np.isnan(oof_logits[:, 0])
    folds_run = sorted(set(fold[done].tolist()))
    # Temperature for the shipped model: all out-of-fold logits. For the quoted calibrated figures, fold k uses the
    # temperature fitted on the other folds (nested), so no figure is calibrated on its own objects.
    T_all = rm.fit_temperature(oof_logits[done], real["y"][done])
    T_nested = {k: rm.fit_temperature(oof_logits[done & (fold != k)], real["y"][done & (fold != k)]) if len(folds_run) > 1 else T_all
                for k in folds_run}
    log(f"temperature {T_all:.3f} (nested per fold: {', '.join(f'{T_nested[k]:.3f}' for k in folds_run)})")
    TB_all = rm.fit_temperature_and_bias(oof_logits[done], real["y"][done])
    TB_nested = {k: rm.fit_temperature_and_bias(oof_logits[done & (fold != k)], real["y"][done & (fold != k)]) if len(folds_run) > 1 else TB_all
                 for k in folds_run}
    log(f"temperature+bias: T {TB_all[0]:.3f}, b {np.round(TB_all[1], 2).tolist()}")
    calibrated = np.full_like(oof_logits, np.nan)
    biased = np.full_like(oof_logits, np.nan)
    raw = np.full_like(oof_logits, np.nan)
    for k in folds_run:
        m = done & (fold == k)
        calibrated[m] = rm.softmax(oof_logits[m] / T_nested[k])
        biased[m] = rm.softmax(oof_logits[m] / TB_nested[k][0] + TB_nested[k][1])
        raw[m] = rm.softmax(oof_logits[m])
    np.savez(os.path.join(a.work, "oof.npz"), logits=oof_logits, fold=fold, objects=objects, y=real["y"], view=view,
             alert=alert, orig=orig)

    held_objects = [o for o in uniq if obj_fold[o] in folds_run]
    views = [("whole", whole)] + [(f"{int(d)} d", view == d) for d in sorted(set(view[~np.isnan(view)].tolist()))] + [("alert (30 d history)", alert)]
    report = {"cross_validation": {"moved_copies_only": bool(moved), "folds": a.folds, "folds_run": folds_run, "fold_rule": "int(md5(object_id)[1], 16) % 5",
                                   "objects": len(held_objects), "temperature": T_all, "calibration": a.calibration,
                                   "temperature_bias": {"temperature": TB_all[0], "bias": dict(zip(CLASSES, TB_all[1].tolist()))},
                                   "temperature_nested": {str(k): T_nested[k] for k in folds_run}, "views": {}}}
    for name, sel in views:
        m = done & sel & orig
        denom = len(held_objects) if name != "alert (30 d history)" and not moved else None
        for label, probs in (("raw", raw), ("temperature", calibrated), ("temperature+bias", biased)):
            r = rm.family_metrics(probs[m], real["y"][m], attempted=denom)
            report["cross_validation"]["views"].setdefault(name, {})[label] = r
        for label in ("raw", "temperature", "temperature+bias"):
            r = report["cross_validation"]["views"][name][label]
            log(f"{name:>22} {label:>16}: coverage {r['coverage']:.3f}  Ia bal-acc {r['ia_balanced_accuracy']:.3f}  "
                f"macro-F1 {r['macro_f1']:.3f}  ECE {r['ece']:.3f}  n {r['n']}")

    hp = dict(vars(a))
    if not a.no_final:
        rows = np.concatenate([np.arange(n_real), sim_rows])
        log(f"final model: {len(rows)} rows")
        model = train(X, y, rows, is_real, a, a.seed + 100, log, a.steps)
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        torch.save(model.state_dict(), a.out + ".pt")
        np.savez(a.out + ".calibration.npz", temperature=T_all, tb_temperature=TB_all[0], tb_bias=TB_all[1])
        if a.calibration == "temperature":
            export_onnx(model, a.out + ".onnx", temperature=T_all)
            extra = {"alerts.calibration": f"temperature {T_all:.4f}"}
        else:
            export_onnx(model, a.out + ".onnx", temperature=TB_all[0], logit_bias=TB_all[1])
            extra = {"alerts.calibration": f"temperature {TB_all[0]:.4f} + per-class bias"}
        add_metadata(a.out + ".onnx", preset, channels, f"md5-first-hex:{TRAINING_HEX}", extra=extra)
        write_fixture(model, channels, torch.randn(4, X.shape[1], len(channels), generator=torch.Generator().manual_seed(a.seed)),
                      a.out + ".fixture.json")
    cfg = T2(X.shape[2], steps=X.shape[1], n_heads=a.heads, ff_dim=a.ff_dim, n_blocks=a.blocks).config
    cfg["grid_steps"] = cfg.pop("steps")   # the grid length, not the optimizer's --steps
    report.update(hyper_parameters=dict(hp, optimizer_steps=a.steps, **cfg),
                  channels=channels, preset=preset, real_rows=int(n_real), simulated_rows=int(len(y) - n_real),
                  real_objects=int(n_objects), seconds=round(time.time() - t_start, 1))
    with open((a.out if not a.no_final else os.path.join(a.work, "cv")) + ".metrics.json", "w") as f:
        json.dump(report, f, indent=1)
    log(f"done in {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
