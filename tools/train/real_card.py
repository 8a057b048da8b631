"""Writes the model card of a real-sky model (train_real.py) and its pictures.

    real_card.py --metrics models/t2-ztf.metrics.json [--compress DIR/report.json] [--csharp eval.json ...] --out models/t2-ztf

writes <out>.md and, next to it, <out>.confusion.png (family confusion, whole curves and 10 days), <out>.reliability.png
(reliability diagrams, whole curves and 30 days) and <out>.days.png (coverage, SN Ia balanced accuracy, macro-F1 and
ECE against days after the first detection). Every figure is cross-validated by object (train_real.py): no object is
scored by a model that trained on it.
"""
import argparse
import hashlib
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FAMILIES = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"]
GOALS = [  # view, metric, comparison, threshold
    ("whole", "coverage", ">=", 0.95), ("whole", "ia_balanced_accuracy", ">=", 0.85), ("whole", "macro_f1", ">=", 0.45),
    ("10 d", "coverage", ">=", 0.85), ("10 d", "ia_balanced_accuracy", ">=", 0.75),
    ("30 d", "ia_balanced_accuracy", ">=", 0.85), ("30 d", "macro_f1", ">=", 0.45),
    ("30 d", "ece", "<=", 0.08), ("whole", "ece", "<=", 0.08),
]
NAMES = {"coverage": "coverage", "ia_balanced_accuracy": "SN Ia balanced accuracy", "macro_f1": "macro-F1 (5 families)", "ece": "ECE"}


def f3(x):
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def view_order(views):
    def key(v):
        if v == "whole":
            return (2, 0)
        if v.endswith(" d"):
            return (0, float(v[:-2]))
        return (3, 0)
    return sorted(views, key=key)


def plots(cv, calib, out):
    views = cv["views"]
    # 1. confusion matrices
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, name in zip(axes, ["whole", "10 d"]):
        if name not in views:
            ax.axis("off")
            continue
        conf = views[name][calib]["confusion"]
        rows = [f for f in FAMILIES if f in conf]
        cols = FAMILIES + ["other"]
        m = np.array([[conf[r].get(c, 0) for c in cols] for r in rows], float)
        frac = m / np.maximum(m.sum(1, keepdims=True), 1)
        ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(rows)):
            for j in range(len(cols)):
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if frac[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(cols)), cols, rotation=30)
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel("predicted family")
        ax.set_ylabel("true family")
        ax.set_title(f"{'whole curves' if name == 'whole' else name + ' after first detection'} (row-normalised colour)")
    fig.tight_layout()
    fig.savefig(out + ".confusion.png", dpi=110)
    plt.close(fig)
    # 2. reliability
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, name in zip(axes, ["whole", "30 d"]):
        if name not in views:
            ax.axis("off")
            continue
        for label, style in (("raw", "o--"), (calib, "s-")):
            rel = [b for b in views[name][label]["reliability"] if b["n"]]
            ax.plot([b["confidence"] for b in rel], [b["accuracy"] for b in rel], style,
                    label=f"{'uncalibrated' if label == 'raw' else label} (ECE {views[name][label]['ece']:.3f})")
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("top-family probability (bin mean)")
        ax.set_ylabel("fraction correct")
        ax.set_title("whole curves" if name == "whole" else f"{name} after first detection")
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out + ".reliability.png", dpi=110)
    plt.close(fig)
    # 3. metrics against days
    days = [v for v in view_order(views) if v.endswith(" d")]
    x = [float(v[:-2]) for v in days]
    fig, ax = plt.subplots(figsize=(7, 4.4))
    for key, style in (("coverage", "o-"), ("ia_balanced_accuracy", "s-"), ("macro_f1", "^-"), ("ece", "x--")):
        ys = [views[v][calib][key] for v in days]
        line, = ax.plot(x, ys, style, label=NAMES[key])
        if "whole" in views:
            ax.axhline(views["whole"][calib][key], color=line.get_color(), lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xticks(x, [f"{int(d)}" for d in x])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days after the first detection (dotted: whole curves)")
    ax.set_title("cross-validated real ZTF objects")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out + ".days.png", dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--compress", help="report.json of alerts compress")
    ap.add_argument("--notes", help="markdown appended as its own section (measured cross-checks, comparisons)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    m = json.load(open(a.metrics))
    cv = m["cross_validation"]
    calib = cv.get("calibration", "temperature")
    hp = m["hyper_parameters"]
    views = cv["views"]
    plots(cv, calib, a.out)
    stem = os.path.basename(a.out)
    onnx = a.out + ".onnx"
    sha = hashlib.sha256(open(onnx, "rb").read()).hexdigest() if os.path.exists(onnx) else ""
    L = []
    L.append(f"# {stem}: t2 for real ZTF alerts, early and late\n")
    L.append(f"`{stem}.onnx` (sha256 `{sha[:12]}`, fp32) and `{stem}.deployed.ort` (compressed; what every command loads by "
             f"default). A t2 time-series transformer (Allam, Peloton & McEwen 2023): {hp['n_blocks']} encoder block, d_model "
             f"{hp['d_model']}, {hp['n_heads']} heads, feed-forward {hp['ff_dim']}, over a [100, {len(m['channels'])}] input "
             f"(`{m['preset']}`: a 2-D Gaussian-process fit over time and wavelength sampled on a grid from 5 days before to "
             f"195 days after the first detection, dense early; band means divided by the object's peak, which keeps the g−r "
             f"colour; one proximity channel per band marks how far the nearest measurement is). Output: 14 t2 classes, "
             f"softmax of the logits calibrated by {calib} (fitted on out-of-fold real objects). Two detections suffice; with "
             f"fewer the alert is not classified and the reason says `too-few-points: 1 detection in ztfg,ztfr within 195 d "
             f"of the first; need 2`.\n")
    L.append("## Training data\n")
    L.append(f"- **Real**: {m['real_objects']} spectroscopically typed ZTF objects from `../shared/data/labelled` (the BTS half, "
             f"`extra-real`, ALeRCE, the OAC TDEs), joined at run time by `tools/train/real_sets.py`; {m['real_rows']:,} rows: "
             f"the whole curves, two alert-like 30-day histories per curve, views 3, 5, 10, 20 and 30 days after the first "
             f"detection, and augmented copies (`LightCurveAugmenter`: the curve moved to a higher redshift through the GP in "
             f"time and wavelength, a new ZTF-like cadence, per-visit depth and noise, 5σ detections; rare classes get more "
             f"copies, up to 60 per object). No light curve, id or feature of these objects is in the repository.")
    L.append(f"- **Simulated**: {m['simulated_rows']:,} rows from `alerts simulate --balanced` for the classes the real sets "
             f"lack (AGN, variable stars, KN, microlensing, M-dwarf flares) and as a minority of the SN draws.")
    L.append(f"- **Sampling**: class-balanced batches with weights `{hp['class_weights']}`, other classes "
             f"{hp['other_weight']}; within a class with real rows {hp['real_share']:.0%} of draws are real. "
             f"{hp.get('optimizer_steps', hp['steps']):,} AdamW steps of {hp['batch']} (lr {hp['lr']}, weight decay {hp['weight_decay']}, warm-up + cosine), "
             f"fixed: no early stopping on held-out objects.")
    L.append(f"- **Training objects**: real ZTF objects whose md5(object_id) hex digest starts with 0–7 (the developers' half "
             f"the labelled sets were cut by). The ONNX metadata says so (`alerts.training_objects = md5-first-hex:01234567`), "
             f"and `alerts evaluate` leaves such objects out unless `--include-training-objects`.\n")
    L.append("## Cross-validated on real objects\n")
    L.append(f"{len(cv['folds_run'])}-fold cross-validation by object over all {cv['objects']} real objects: fold = "
             f"`{cv['fold_rule']}`; each fold's model trained on the other folds (and their augmented copies) and scored the "
             f"fold's original curves only. Scored by family: SN Ia = SNIa + SNIax + SNIa-91bg; macro-F1 over SNIa, SNII, "
             f"SNIbc, SLSN-I, TDE; ECE of the top family, 15 bins. Calibration: each fold's figures use a temperature fitted on "
             f"the other folds' out-of-fold predictions (shipped temperature {cv['temperature']:.3f}, fitted on all).\n")
    L.append("| view | coverage | SN Ia bal. acc. | macro-F1 | ECE | ECE uncalibrated | accuracy (families) | objects classified |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for v in view_order(views):
        r, raw = views[v][calib], views[v]["raw"]
        label = "whole light curve" if v == "whole" else ("alert-like 30-day histories" if v.startswith("alert") else f"{v[:-2]} days after the first detection")
        L.append(f"| {label} | {f3(r['coverage'])} | {f3(r['ia_balanced_accuracy'])} | {f3(r['macro_f1'])} | {f3(r['ece'])} | "
                 f"{f3(raw['ece'])} | {f3(r.get('accuracy'))} | {r['n']} |")
    L.append("")
    L.append(f"![metrics against days]({stem}.days.png)\n")
    L.append("### Against the goals\n")
    L.append("| view | metric | goal | cross-validated | met |")
    L.append("|---|---|---:|---:|:---:|")
    for view, key, op, th in GOALS:
        if view not in views:
            continue
        x = views[view][calib][key]
        ok = x >= th if op == ">=" else x <= th
        L.append(f"| {view} | {NAMES[key]} | {op} {th} | {f3(x)} | {'yes' if ok else 'no'} |")
    L.append("")
    L.append("### Per family\n")
    L.append("| view | family | support | recall | precision | F1 |")
    L.append("|---|---|---:|---:|---:|---:|")
    for v in ["whole", "10 d", "30 d"]:
        if v not in views:
            continue
        for f in FAMILIES:
            p = views[v][calib]["per_family"][f]
            L.append(f"| {v} | {f} | {p['support']} | {f3(p['recall'])} | {f3(p['precision'])} | {f3(p['f1'])} |")
    L.append("")
    L.append(f"![family confusion]({stem}.confusion.png)\n")
    L.append(f"![reliability]({stem}.reliability.png)\n")
    L.append("### What `p_SNIa_family >= t` routes deliver\n")
    L.append("Purity (fraction truly SN Ia family) and the number of objects that pass, cross-validated:\n")
    ths = list(views["whole"][calib]["ia_route"].keys())
    L.append("| view | " + " | ".join(f"≥ {t}" for t in ths) + " |")
    L.append("|---|" + "---:|" * len(ths))
    for v in view_order(views):
        cells = []
        for t in ths:
            r = views[v][calib]["ia_route"][t]
            cells.append(f"{f3(r['purity'])} ({r['fired']})")
        L.append(f"| {v} | " + " | ".join(cells) + " |")
    L.append("")
    if a.compress and os.path.exists(a.compress):
        rep = json.load(open(a.compress))
        chosen = (rep.get("Deployed") or "").split("<- ")[-1]
        dep = next((v for v in rep["Variants"] if v["File"] == chosen), None)
        base = rep["NaiveBaseline"]
        L.append("## Deployed model\n")
        L.append(f"`alerts compress` with the real curves' original rows (whole curves and day views) as its gate "
                 f"({rep['EvaluationRows']} evaluation + {rep['CalibrationRows']} calibration rows, tolerance {rep['Tolerance'] * 100:.0f} "
                 f"point on accuracy, and on the SN Ia balanced accuracy and family macro-F1 either way). These rows trained the "
                 f"model, so the gate measures agreement with fp32, not skill.")
        if dep:
            sha = hashlib.sha256(open(os.path.join(os.path.dirname(a.out), stem + ".deployed.ort"), "rb").read()).hexdigest()[:12] \
                if os.path.exists(os.path.join(os.path.dirname(a.out), stem + ".deployed.ort")) else ""
            L.append(f"Deployed: `{dep['Name']}` (`{stem}.deployed.ort`, id `{sha}`, {dep['SizeBytes']:,} B, {dep['CompressionRatio']:.2f}× "
                     f"smaller than the fp32 .onnx): accuracy {dep['Accuracy'] * 100:.2f} % vs fp32 {base['Accuracy'] * 100:.2f} %, "
                     f"SN Ia balanced accuracy {dep['SnIaBalancedAccuracy']:.4f} vs {base['SnIaBalancedAccuracy']:.4f}, family macro-F1 "
                     f"{dep['FamilyMacroF1']:.4f} vs {base['FamilyMacroF1']:.4f}. Full table: `models/reports/{stem}/report.md`.\n")
    if a.notes and os.path.exists(a.notes):
        L.append(open(a.notes).read().rstrip() + "\n")
    L.append("## Reproduce\n")
    L.append("```bash\napt-get install python3-torch python3-onnx python3-matplotlib libopenblas0-pthread\n"
             "tools/train/train_real.sh /tmp/alerts-train-real     # SEED=7 by default; about an hour on 2 cores\n```\n")
    L.append(f"Training and cross-validation took {m['seconds'] / 60:.0f} minutes on 2 cores (train_real.py).")
    open(a.out + ".md", "w").write("\n".join(L) + "\n")
    print(f"wrote {a.out}.md and 3 PNG files")


if __name__ == "__main__":
    main()
