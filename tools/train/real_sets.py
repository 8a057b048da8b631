"""Joins every real labelled ZTF set under ../shared/data/labelled into one light-curve table and one label table, in
the project's table layout (`alerts features/evaluate --lightcurves T --labels T`), for training and cross-validation.

    /usr/bin/python3 tools/train/real_sets.py --shared ../shared/data/labelled --out /tmp/alerts-real

writes OUT/lightcurves.csv (object_id, mjd, band, mag, mag_err: ZTF g/r detections, AB, MJD UTC) and OUT/labels.csv
(object_id, class, redshift, set, fold). The output is derived from ../shared and must stay outside the repository.

Sets and what is taken from each:
- ztf-bts-antares: every light curve, BTS `type` mapped as src/Classifier/BtsLabelledSet.cs maps it, BTS redshift.
- extra-real: every object with a t2_class (SLSN-I, TDE, SNe from YSE DR1, SN Ia from the ZTF SN Ia DR1).
- alerce-lc-classifier-30sne: the objects not already in BTS, `magpsf`/`sigmapsf` detections (isdiffpos > 0).
- oac-tde: TDEs, optical g/r magnitudes (AB, not upper limits) from any telescope, as ZTF g/r (their shapes, not
  their epochs, are what training uses).

Objects are named by their ZTF id where one is known, so the same object from two sets is kept once (the first set in
the order above wins). Real objects that trained a model are recognised by a rule, never by a list (no id of ../shared
enters the repository): the developers' half of each real set is md5(object_id)[0] in 0-7, the half these sets were
cut by; an object of the smaller sets whose ZTF id falls in the other half (8-f) is dropped, so that every real training
object satisfies the rule. Cross-validation folds: fold = int(md5(object_id)[1], 16) % FOLDS.
"""
import argparse
import csv
import glob
import hashlib
import json
import os
import sys

BTS_LABELS = "ZTF_BTS_02_02__02_04_2021.csv"
# Redshift when a set gives none: a typical value of the class in these magnitude-limited samples (used only to bound
# the redshift augmentation, never as a feature).
DEFAULT_Z = {"SNIa": 0.07, "SNIa-91bg": 0.04, "SNIax": 0.03, "SNII": 0.03, "SNIbc": 0.03, "SLSN-I": 0.2, "TDE": 0.08}


def bts_class(t: str):
    t = t.strip()
    if t in ("SN Ia", "SN Ia-91T", "SN Ia-pec", "SN Ia-CSM"):
        return "SNIa"
    if t == "SN Ia-91bg":
        return "SNIa-91bg"
    if t == "SN Iax":
        return "SNIax"
    if t in ("SN II", "SN IIP", "SN II-pec", "SN IIn", "SN IIb", "SN IIL"):
        return "SNII"
    if t in ("SN Ib", "SN Ic", "SN Ic-BL", "SN Ib/c", "SN Ib-pec", "SN Ibn", "SN Icn"):
        return "SNIbc"
    if t in ("SLSN-I", "TDE"):
        return t
    return None


def md5hex(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def developers_half(object_id: str) -> bool:
    return md5hex(object_id)[0] in "01234567"


def fold_of(object_id: str, folds: int) -> int:
    return int(md5hex(object_id)[1], 16) % folds


def parse_z(text, cls):
    try:
        z = float(text)
        if 0 < z < 5:
            return z
    except (TypeError, ValueError):
        pass
    return DEFAULT_Z.get(cls, 0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default="../shared/data/labelled")
    ap.add_argument("--out", required=True)
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    objects = {}   # id -> (class, z, set, rows[(mjd, band, mag, err)])
    counts = {}

    def add(oid, cls, z, set_name, rows):
        rows = [r for r in rows if r[1] in ("g", "r") and r[3] > 0 and r[2] == r[2]]
        if oid in objects or len(rows) < 1 or cls is None:
            counts[(set_name, "skipped")] = counts.get((set_name, "skipped"), 0) + 1
            return
        objects[oid] = (cls, z, set_name, sorted(rows))
        counts[(set_name, cls)] = counts.get((set_name, cls), 0) + 1

    bts = os.path.join(a.shared, "ztf-bts-antares")
    with open(os.path.join(bts, BTS_LABELS)) as f:
        lab = {r["ZTFID"]: r for r in csv.DictReader(f)}
    for path in sorted(glob.glob(os.path.join(bts, "light-curves", "*.csv"))):
        oid = os.path.basename(path)[:-4]
        r = lab.get(oid)
        if r is None:
            continue
        cls = bts_class(r["type"])
        rows = []
        with open(path) as f:
            for x in csv.DictReader(f):
                band = {"g": "g", "R": "r", "r": "r"}.get(x["ant_passband"])
                if band:
                    rows.append((float(x["ant_mjd"]), band, float(x["ant_mag"]), float(x["ant_magerr"])))
        add(oid, cls, parse_z(r.get("redshift"), cls), "bts", rows)

    extra = os.path.join(a.shared, "extra-real")
    with open(os.path.join(extra, "labels.csv")) as f:
        elab = {r["object_id"]: r for r in csv.DictReader(f)}
    erows = {}
    with open(os.path.join(extra, "lightcurves.csv")) as f:
        for x in csv.DictReader(f):
            erows.setdefault(x["object_id"], []).append((float(x["mjd"]), x["band"], float(x["mag"]), float(x["mag_err"])))
    for oid, r in elab.items():
        cls = r["t2_class"] or None
        add(oid, cls, DEFAULT_Z.get(cls, 0.05) if cls else 0, "extra-real", erows.get(oid, []))

    alerce = os.path.join(a.shared, "alerce-lc-classifier-30sne")
    amap = {"SNIa": "SNIa", "SNIbc": "SNIbc", "SNII": "SNII", "SLSN": "SLSN-I"}
    with open(os.path.join(alerce, "30_sne_labels.csv")) as f:
        alab = {r["objectId"]: amap.get(r["classALeRCE"]) for r in csv.DictReader(f)}
    arows = {}
    with open(os.path.join(alerce, "30_sne_detections_corr.csv")) as f:
        for x in csv.DictReader(f):
            if float(x.get("isdiffpos") or 1) <= 0:
                continue
            band = {"1": "g", "2": "r"}.get(x["fid"])
            if band:
                arows.setdefault(x["objectId"], []).append((float(x["mjd"]), band, float(x["magpsf"]), float(x["sigmapsf"])))
    for oid, cls in alab.items():
        if not developers_half(oid):
            counts[("alerce", "other half")] = counts.get(("alerce", "other half"), 0) + 1
            continue
        add(oid, cls, DEFAULT_Z.get(cls, 0.05), "alerce", arows.get(oid, []))

    for path in sorted(glob.glob(os.path.join(a.shared, "oac-tde", "*.json"))):
        d = json.load(open(path))
        o = d[list(d)[0]]
        names = [al["value"] for al in o.get("alias", [])] + [o.get("name", "")]
        ztf = next((n for n in names if n.startswith("ZTF")), None)
        for al in names:   # "AT2019qiz (= ZTF19abzrhgq)"-style aliases
            if "ZTF" in al and ztf is None:
                ztf = "ZTF" + al.split("ZTF", 1)[1].strip(" )")
        oid = ztf or "oac:" + os.path.basename(path)[:-5]
        if ztf and not developers_half(ztf):
            counts[("oac-tde", "other half")] = counts.get(("oac-tde", "other half"), 0) + 1
            continue
        # The same TDE may be in extra-real under its IAU name.
        if any(k.endswith(":" + n) or k.endswith(":AT" + n) for n in names for k in objects):
            counts[("oac-tde", "duplicate")] = counts.get(("oac-tde", "duplicate"), 0) + 1
            continue
        rows = []
        for p in o.get("photometry", []):
            if p.get("upperlimit") or "magnitude" not in p or "e_magnitude" not in p or p.get("band") not in ("g", "r"):
                continue
            if p.get("system", "AB") != "AB" or p.get("u_time", "MJD") != "MJD":
                continue
            t = float(p["time"]) if not isinstance(p["time"], list) else float(p["time"][0])
            rows.append((t, p["band"], float(p["magnitude"]), float(p["e_magnitude"])))
        z = parse_z((o.get("redshift") or [{}])[0].get("value"), "TDE")
        if len(rows) >= 5:
            add(oid, "TDE", z, "oac-tde", rows)

    with open(os.path.join(a.out, "lightcurves.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["object_id", "mjd", "band", "mag", "mag_err"])
        for oid, (_, _, _, rows) in objects.items():
            for t, b, m, e in rows:
                w.writerow([oid, f"{t:.6f}", b, f"{m:.4f}", f"{e:.4f}"])
    with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["object_id", "class", "redshift", "set", "fold"])
        for oid, (cls, z, s, _) in objects.items():
            w.writerow([oid, cls, f"{z:.5f}", s, fold_of(oid, a.folds)])
    by_class = {}
    for cls, _, _, _ in objects.values():
        by_class[cls] = by_class.get(cls, 0) + 1
    print(f"{len(objects)} objects -> {a.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())), file=sys.stderr)
    print("per set: " + ", ".join(f"{s}/{c} {n}" for (s, c), n in sorted(counts.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
