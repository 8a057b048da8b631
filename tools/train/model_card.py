"""Writes models/t2-<survey>.md from the training metrics and the C# evaluations (`alerts evaluate --json`)."""
import argparse
import hashlib
import json
import os


def table(ev: dict) -> str:
    rows = ["| class | support | accuracy (recall) | precision | F1 |", "|---|---:|---:|---:|---:|"]
    for m in ev["PerClass"]:
        if m["Support"] > 0:
            rows.append(f"| {m['Name']} | {m['Support']} | {m['Accuracy']:.3f} | {m['Precision']:.3f} | {m['F1']:.3f} |")
    return "\n".join(rows)


def summary(ev: dict) -> str:
    nc = ", ".join(f"{k} {v}" for k, v in ev["NotClassified"].items()) or "0"
    sk = ", ".join(f"{k} {v}" for k, v in sorted(ev["Skipped"].items(), key=lambda kv: -kv[1])) or "0"
    return (f"objects {ev['Objects']}, classified {ev['Classified']} (not classified: {nc}; skipped, no t2 class: {sk})\n\n"
            f"| accuracy | macro-F1 | PLAsTiCC weighted log-loss |\n|---:|---:|---:|\n"
            f"| {ev['Accuracy']:.3f} | {ev['MacroF1']:.3f} | {ev['WeightedLogLoss']:.3f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--survey", required=True)
    ap.add_argument("--objects", type=int, required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--eval-sim", required=True)
    ap.add_argument("--eval-sim-alerts", help="alert-level evaluation (truncated histories of the held-out objects)")
    ap.add_argument("--eval-bts")
    ap.add_argument("--train-log")
    ap.add_argument("--compare", action="append", default=[], metavar="MODEL:SET:EVAL.json",
                    help="an `alerts evaluate --json` result of another model (e.g. the one it replaces) on one of the sets "
                         "(full, alerts, bts), shown side by side with this model's; repeatable")
    ap.add_argument("--reproduce", help="the reproduce command shown (default: train_model.sh <survey> <objects>)")
    ap.add_argument("--lineage", help="where the starting weights came from (shown after 'fine-tuned from <init>')")
    ap.add_argument("--note", action="append", default=[], help="extra paragraph for the comparison section (e.g. the replay figure)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    m = json.load(open(a.metrics))
    sim = json.load(open(a.eval_sim))
    bts = json.load(open(a.eval_bts)) if a.eval_bts else None
    sim_alerts = json.load(open(a.eval_sim_alerts)) if a.eval_sim_alerts else None
    onnx = a.out[:-3] + ".onnx"
    digest = hashlib.sha256(open(onnx, "rb").read()).hexdigest()[:12]
    hp = m["hyper_parameters"]
    bands = ", ".join(m["channels"])
    lines = [
        f"# t2-{a.survey}: t2 time-series transformer for {a.survey.upper()} ({bands})",
        "",
        f"Model id (first 12 hex of SHA-256 of `{os.path.basename(onnx)}`): `{digest}`. fp32 ONNX, opset 17, "
        f"input `input` float32 [batch, {hp['steps']}, {hp['n_bands']}] -> output `probabilities` float32 [batch, 14] (softmax, FINK T2_COLS order). "
        f"Metadata `alerts.preprocessing` selects the C# preset.",
        "",
        "## Data",
        f"- Training: {a.objects} objects from Alerts' own simulator (`alerts simulate --survey {a.survey} --objects {a.objects}`), "
        f"features computed by the service's C# preprocessing (`alerts features`): GP (Matérn-3/2, l_λ = 6000 Å) mean on a 100-step grid, "
        f"robust-scaled per band. " + (f"{m['train_objects']} objects ({m['train']} light curves incl. alert-like histories) trained, "
        f"{m['held_out_objects']} objects ({m['held_out']} light curves) held out (stratified by class, {hp['holdout']:.0%})." if m.get("alert_rows") else
        f"{m['train']} objects trained, {m['held_out']} held out (stratified {hp['holdout']:.0%})."),
        ("- Alert-like inputs: besides each full light curve, truncated histories per object (`alerts features --alert-samples N`: the "
         "detections an alert sent at a random detection time carries, within the survey's alert history window, ZTF 30 d, Rubin 365 d), "
         "so the model sees what the service classifies. Train/held-out split by object." if m.get("alert_rows") else ""),
        ("- Weights are ours: fine-tuned from `" + os.path.basename(hp["init"]) + "` (" + (a.lineage or "a model of ours, itself trained "
         "from random initialisation on full simulated light curves of a different simulator seed") + "); no FINK weights were used."
         if hp.get("init") else
         "- Weights are ours: trained from random initialisation on simulated data; no FINK weights were used."),
        "",
        "## Classes",
        "mu-Lens-Single, TDE, EB, SNII, SNIax, Mira, SNIbc, KN, M-dwarf, SNIa-91bg, AGN, SNIa, RRL, SLSN-I (PLAsTiCC taxonomy, FINK order).",
        "",
        "## Hyper-parameters",
        f"d_model {hp['d_model']}, heads {hp['n_heads']}, feed-forward {hp['ff_dim']}, blocks {hp['n_blocks']}, dropout {hp['dropout']}, "
        f"AdamW lr {hp['lr']} (cosine), weight decay {hp['weight_decay']}, batch {hp['batch']}, epochs run {m['epochs_run']} of {hp['epochs']} "
        f"(early stop on held-out weighted log-loss, patience {hp['patience']}), class-balanced cross-entropy, seed {hp['seed']}, "
        f"{m['seconds']:.0f} s on {hp['threads']} CPU threads.",
        "",
        "## Metrics on held-out simulated objects (C#: `alerts evaluate --ids heldout.txt`)",
        summary(sim), "", table(sim), "",
    ]
    if sim_alerts:
        lines += ["## Metrics on alert-like held-out inputs (C#: `alerts evaluate --ids heldout.txt --alert-samples 4 --no-full`)",
                  "Four truncated histories per held-out object at other alert times than training drew: what an alert carries "
                  "(the detections up to the alert, within the survey's alert history window). Histories the preprocessing "
                  "rejects (too few points, a missing band) are not classified, as in the service.",
                  "", summary(sim_alerts), "", table(sim_alerts), ""]
    if bts:
        lines += ["## Metrics on real ZTF BTS light curves (C#: `alerts evaluate --bts ../shared/data/labelled/ztf-bts-antares`)",
                  "BTS is a bright SN sample (mostly SN Ia); types map onto t2 classes as in `src/Classifier/BtsLabelledSet.cs`. "
                  "Real light curves span up to 3 years; all detections are fitted (preset MaxPoints = 0).",
                  "", summary(bts), "", table(bts), ""]
    else:
        lines += ["## Metrics on real light curves", "Not applicable or ../shared/data absent when this card was written.", ""]
    if a.compare:
        sets = {"full": ("held-out simulated objects, full light curves", sim), "alerts": ("held-out simulated alerts (truncated histories)", sim_alerts),
                "bts": ("real ZTF BTS light curves", bts)}
        rows = ["| model | evaluation set | classified | accuracy | macro-F1 | weighted log-loss |", "|---|---|---:|---:|---:|---:|"]
        this = os.path.basename(onnx) + f" ({digest}, this card)"
        for key, (label, ev) in sets.items():
            if ev:
                rows.append(f"| {this} | {label} | {ev['Classified']} | {ev['Accuracy']:.3f} | {ev['MacroF1']:.3f} | {ev['WeightedLogLoss']:.3f} |")
            for c in a.compare:
                name, kind, path = c.split(":", 2)
                if kind == key:
                    o = json.load(open(path))
                    rows.append(f"| {name} ({o['ModelId']}) | {label} | {o['Classified']} | {o['Accuracy']:.3f} | {o['MacroF1']:.3f} | {o['WeightedLogLoss']:.3f} |")
        lines += ["## Compared with other models (same evaluation sets, same C# evaluator)", "\n".join(rows), ""] + [n + "\n" for n in a.note]
    lines += ["## Reproduce", "```bash", a.reproduce or f"tools/train/train_model.sh {a.survey} {a.objects}", "```",
              "PLAsTiCC weighted log-loss weights: TDE and KN 2, the other twelve classes 1 (class 99 does not exist in t2)."]
    open(a.out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
