"""Train t2 on features computed by Alerts' own C# preprocessing, export ONNX, write a test fixture.

    dotnet run --project src/Pipeline -c Release -- simulate --survey ztf --objects 6000 --out /tmp/sim-ztf
    dotnet run --project src/Pipeline -c Release -- features --survey ztf \
        --lightcurves /tmp/sim-ztf/lightcurves.csv --labels /tmp/sim-ztf/labels.csv --out /tmp/sim-ztf/features.npz
    /usr/bin/python3 tools/train/train_t2.py --features /tmp/sim-ztf/features.npz --out models/t2-ztf

writes <out>.onnx (opset 17, input "input" [batch,100,bands] -> "probabilities" [batch,14], FINK T2_COLS order,
metadata alerts.preprocessing / alerts.channels, and alerts.training_objects with --training-objects: pass
md5-first-hex:01234567 when the features hold real objects of real_sets.py, so `alerts evaluate` leaves them out), <out>.pt (state_dict, for the PyTorch benchmark),
<out>.metrics.json (held-out metrics) and <out>.fixture.json (random inputs + PyTorch outputs, for the
ONNX-matches-PyTorch test; random, not held-out rows, because the fixture is committed and training may use real
light curves from ../shared/data, which are not ours to redistribute). Metrics printed here are a cross-check: the model card quotes `alerts evaluate`.
"""
import argparse
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

PLASTICC_WEIGHTS = np.array([2.0 if c in ("TDE", "KN") else 1.0 for c in CLASSES])


def metrics(probs: np.ndarray, y: np.ndarray) -> dict:
    pred = probs.argmax(1)
    out = {"n": int(len(y)), "accuracy": float((pred == y).mean()) if len(y) else float("nan")}
    f1s, per = [], {}
    num = den = 0.0
    for c, name in enumerate(CLASSES):
        t, p = y == c, pred == c
        if t.sum() == 0:
            continue
        tp = float((t & p).sum())
        prec = tp / p.sum() if p.sum() else 0.0
        rec = tp / t.sum()
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        f1s.append(f1)
        pc = np.clip(probs[t], 1e-15, 1 - 1e-15)
        pc = pc / pc.sum(1, keepdims=True)
        ll = float(-np.log(pc[:, c]).mean())
        num += PLASTICC_WEIGHTS[c] * ll
        den += PLASTICC_WEIGHTS[c]
        per[name] = {"support": int(t.sum()), "accuracy": rec, "f1": f1}
    out["macro_f1"] = float(np.mean(f1s)) if f1s else float("nan")
    out["weighted_log_loss"] = num / den if den else float("nan")
    out["per_class"] = per
    return out


def stratified_split(y: np.ndarray, frac: float, rng: np.random.Generator):
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        k = max(1, int(round(len(idx) * frac))) if len(idx) > 1 else 0
        test.extend(idx[:k])
        train.extend(idx[k:])
    return np.array(sorted(train)), np.array(sorted(test))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True, help=".npz from `alerts features` (X, y, ids, channels)")
    ap.add_argument("--out", required=True, help="output prefix, e.g. models/t2-ztf")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--holdout", type=float, default=0.2, help="stratified held-out fraction")
    ap.add_argument("--patience", type=int, default=10, help="stop after this many epochs without a better held-out loss")
    ap.add_argument("--budget-minutes", type=float, default=12.0, help="wall-clock cap for training")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--heads", type=int, default=4,
                    help="attention heads (d_model 32 is split among them). FINK's t2 has 16 heads of width 2; the shipped "
                         "models have 4 of width 8, which cost a quarter of the softmax exps per alert (see models/*.md)")
    ap.add_argument("--ff-dim", type=int, default=128, help="feed-forward width")
    ap.add_argument("--init", help="start from this state_dict (.pt) instead of random weights (fine-tuning a shipped model)")
    ap.add_argument("--heldout-ids", help="write the held-out object ids here (one per line) for `alerts evaluate --ids`")
    ap.add_argument("--training-objects", help="ONNX metadata alerts.training_objects: the rule naming the real objects in the "
                    "features, e.g. md5-first-hex:01234567 for the developers' half from real_sets.py (alerts evaluate leaves them out)")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    d = np.load(a.features)
    X, y = d["X"].astype(np.float32), d["y"].astype(np.int64)
    channels = [str(c) for c in d["channels"]]
    ok = y >= 0
    X, y = X[ok], y[ok]
    if "objects" in d.files:
        # Alert-history samples of one object are near-duplicates: split by object, stratified by class, so no
        # held-out object has a truncated copy in training.
        objs = d["objects"][ok]
        uniq, first, inv = np.unique(objs, return_index=True, return_inverse=True)
        otr, ote = stratified_split(y[first], a.holdout, rng)
        tr, te = np.flatnonzero(np.isin(inv, otr)), np.flatnonzero(np.isin(inv, ote))
        held_out_objects = uniq[ote]
        print(f"{len(uniq)} objects -> {len(otr)} train / {len(ote)} held-out objects; "
              f"{int(d['alert_sample'][ok].sum())} of {len(y)} rows are alert-like truncated histories", file=sys.stderr)
    else:
        tr, te = stratified_split(y, a.holdout, rng)
        held_out_objects = d["ids"][ok][te] if "ids" in d.files else None
    print(f"{len(y)} objects, {X.shape[1]} steps, bands {channels}; train {len(tr)}, held-out {len(te)}", file=sys.stderr)
    print("class counts: " + ", ".join(f"{CLASSES[c]} {int((y == c).sum())}" for c in np.unique(y)), file=sys.stderr)

    model = T2(len(channels), steps=X.shape[1], n_heads=a.heads, ff_dim=a.ff_dim, dropout=a.dropout)
    if a.init:
        model.load_state_dict(torch.load(a.init))
        print(f"initialised from {a.init}", file=sys.stderr)
    # Balanced class weights: the simulator's class mix is not the sky's, and the PLAsTiCC metric averages per class.
    counts = np.bincount(y[tr], minlength=len(CLASSES)).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / (counts > 0).sum(), 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    Xtr, ytr = torch.from_numpy(X[tr]), torch.from_numpy(y[tr])
    Xte, yte = torch.from_numpy(X[te]), y[te]

    best, best_state, stale, t0 = math.inf, None, 0, time.time()
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(tr))
        total = 0.0
        for s in range(0, len(tr), a.batch):
            b = perm[s:s + a.batch]
            opt.zero_grad()
            loss = loss_fn(model.logits(Xtr[b]), ytr[b])
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        sched.step()
        model.eval()
        with torch.no_grad():
            pte = model(Xte).numpy()
        m = metrics(pte, yte)
        print(f"epoch {epoch + 1:3d}  train loss {total / len(tr):.4f}  held-out acc {m['accuracy']:.3f}  "
              f"macro-F1 {m['macro_f1']:.3f}  wlogloss {m['weighted_log_loss']:.3f}  {time.time() - t0:.0f}s", file=sys.stderr)
        if m["weighted_log_loss"] < best - 1e-4:
            best, best_state, stale = m["weighted_log_loss"], {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            stale += 1
        if stale >= a.patience or time.time() - t0 > a.budget_minutes * 60:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        pte = model(Xte).numpy()
    m = metrics(pte, yte)
    m.update(alert_rows=int(d["alert_sample"][ok].sum()) if "alert_sample" in d.files else 0,
             train_objects=int(len(np.unique(d["objects"][ok][tr]))) if "objects" in d.files else len(tr),
             held_out_objects=int(len(held_out_objects)) if held_out_objects is not None else len(te))
    m.update(epochs_run=epoch + 1, seconds=round(time.time() - t0, 1), train=len(tr), held_out=len(te),
             hyper_parameters=dict(vars(a), **model.config), channels=channels)
    if a.heldout_ids and held_out_objects is not None:
        os.makedirs(os.path.dirname(os.path.abspath(a.heldout_ids)), exist_ok=True)
        with open(a.heldout_ids, "w") as f:
            f.write("\n".join(str(i) for i in held_out_objects) + "\n")

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    export_onnx(model, a.out + ".onnx")
    add_metadata(a.out + ".onnx", "t2-ztf" if channels[0].startswith("ztf") else "t2-lsst", channels, a.training_objects)
    torch.save(model.state_dict(), a.out + ".pt")
    write_fixture(model, channels, torch.randn(4, X.shape[1], len(channels), generator=torch.Generator().manual_seed(a.seed)),
                  a.out + ".fixture.json")
    with open(a.out + ".metrics.json", "w") as f:
        json.dump(m, f, indent=1)
    print(json.dumps({k: m[k] for k in ("n", "accuracy", "macro_f1", "weighted_log_loss", "epochs_run", "seconds")}))


if __name__ == "__main__":
    main()
