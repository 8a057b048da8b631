"""Real-sky metrics, scored by family (the SN Ia subtypes count as SN Ia), and temperature scaling.

The definitions match the C# RealSkyMetrics that `alerts evaluate` prints:
  - families: SNIa (SNIa + SNIax + SNIa-91bg), SNII, SNIbc, SLSN-I, TDE; every other class is "other";
  - the predicted family is the argmax of the family-summed probabilities (the five families and "other");
  - coverage = classified objects / objects attempted (an object the preprocessing rejects is not classified);
  - SN Ia balanced accuracy = mean of the recall of "SN Ia family" and of "not SN Ia family" (true SN classes only);
  - macro-F1 = mean F1 over the five families that have support;
  - ECE = sum over 15 equal-width bins [b/15, (b+1)/15) of the predicted family's summed probability of
    |accuracy - confidence| * share.
"""
import numpy as np

CLASSES = [
    "mu-Lens-Single", "TDE", "EB", "SNII", "SNIax", "Mira", "SNIbc", "KN",
    "M-dwarf", "SNIa-91bg", "AGN", "SNIa", "RRL", "SLSN-I",
]
FAMILIES = [("SNIa", ["SNIa", "SNIax", "SNIa-91bg"]), ("SNII", ["SNII"]), ("SNIbc", ["SNIbc"]),
            ("SLSN-I", ["SLSN-I"]), ("TDE", ["TDE"])]
SCORED_CLASSES = {c for _, members in FAMILIES for c in members}
OTHER = len(FAMILIES)

_FAMILY_OF = np.full(len(CLASSES), OTHER)
for f, (_, members) in enumerate(FAMILIES):
    for c in members:
        _FAMILY_OF[CLASSES.index(c)] = f


def family_of(classes: np.ndarray) -> np.ndarray:
    return _FAMILY_OF[classes]


def family_probabilities(probs: np.ndarray) -> np.ndarray:
    """[n, 14] -> [n, 6]: the five families and "other"."""
    out = np.zeros((len(probs), OTHER + 1))
    for c in range(len(CLASSES)):
        out[:, _FAMILY_OF[c]] += probs[:, c]
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """T > 0 minimising the mean negative log-likelihood of softmax(logits / T) (golden-section search on log T)."""
    if len(y) == 0:
        return 1.0

    def nll(log_t):
        p = softmax(logits / np.exp(log_t))
        return -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)))

    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def reliability(conf: np.ndarray, correct: np.ndarray, bins: int = 15):
    """Bins [b/15, (b+1)/15), a confidence of exactly 1 in the last (as RealSkyMetrics.BinOf)."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.floor(conf * bins).astype(int), 0, bins - 1)
    rows, ece = [], 0.0
    for i in range(bins):
        m = which == i
        if m.sum() == 0:
            rows.append({"low": float(edges[i]), "high": float(edges[i + 1]), "n": 0, "confidence": None, "accuracy": None})
            continue
        acc, cf = float(correct[m].mean()), float(conf[m].mean())
        ece += m.mean() * abs(acc - cf)
        rows.append({"low": float(edges[i]), "high": float(edges[i + 1]), "n": int(m.sum()), "confidence": cf, "accuracy": acc})
    return float(ece), rows


def family_metrics(probs: np.ndarray, y: np.ndarray, attempted: int = None) -> dict:
    """probs [n, 14] of the classified objects, y their true classes; attempted = objects tried (coverage)."""
    n = len(y)
    attempted = n if attempted is None else attempted
    out = {"n": int(n), "attempted": int(attempted), "coverage": n / attempted if attempted else float("nan")}
    keep = np.isin(y, [CLASSES.index(c) for c in SCORED_CLASSES])
    probs, y = probs[keep], y[keep]
    if len(y) == 0:
        return dict(out, ia_balanced_accuracy=float("nan"), macro_f1=float("nan"), ece=float("nan"))
    fp = family_probabilities(probs)
    pred = fp.argmax(1)
    true = family_of(y)
    is_ia, pred_ia = true == 0, pred == 0
    rec_ia = float((pred_ia & is_ia).sum() / is_ia.sum()) if is_ia.sum() else float("nan")
    rec_not = float((~pred_ia & ~is_ia).sum() / (~is_ia).sum()) if (~is_ia).sum() else float("nan")
    out["ia_balanced_accuracy"] = float(np.nanmean([rec_ia, rec_not]))
    out["ia_purity"] = float((pred_ia & is_ia).sum() / pred_ia.sum()) if pred_ia.sum() else float("nan")
    out["ia_efficiency"] = rec_ia
    per, f1s = {}, []
    for f, (name, _) in enumerate(FAMILIES):
        t, p = true == f, pred == f
        tp = float((t & p).sum())
        prec = tp / p.sum() if p.sum() else 0.0
        rec = tp / t.sum() if t.sum() else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if t.sum() and prec + rec else 0.0
        per[name] = {"support": int(t.sum()), "predicted": int(p.sum()), "recall": rec, "precision": prec, "f1": f1}
        if t.sum():
            f1s.append(f1)
    out["macro_f1"] = float(np.mean(f1s))
    out["accuracy"] = float((pred == true).mean())
    out["per_family"] = per
    conf = fp.max(1)
    out["ece"], out["reliability"] = reliability(conf, pred == true)
    names = [f for f, _ in FAMILIES] + ["other"]
    out["confusion"] = {names[t]: {names[p]: int(((true == t) & (pred == p)).sum()) for p in range(len(names))}
                        for t in range(len(FAMILIES)) if (true == t).any()}
    # Purity of the family-score route "SNIa family >= threshold" at a few thresholds: what a user's filter would get.
    out["ia_route"] = {f"{th:.1f}": {"fired": int((fp[:, 0] >= th).sum()),
                                     "purity": float(is_ia[fp[:, 0] >= th].mean()) if (fp[:, 0] >= th).any() else None}
                       for th in (0.5, 0.6, 0.7, 0.8, 0.9)}
    return out


def fit_temperature_and_bias(logits: np.ndarray, y: np.ndarray, ridge: float = 1e-3):
    """T and per-class offsets b minimising the NLL of softmax(logits / T + b) (L-BFGS, a small ridge on b keeps the
    classes absent from y at ~0). Corrects the prior shift from a class-balanced training mix to the sky's, at the cost
    of recall on rare classes."""
    import torch
    lt = torch.tensor(logits, dtype=torch.float64)
    yt = torch.tensor(y)
    b = torch.zeros(logits.shape[1], dtype=torch.float64, requires_grad=True)
    s = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([b, s], max_iter=300)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lt * torch.exp(-s) + b, yt) + ridge * (b ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return float(np.exp(s.detach().numpy()[0])), b.detach().numpy().astype(np.float32)
