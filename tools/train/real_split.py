"""Splits the objects of a real labelled feature set (`alerts features --bts ...`) into a training and a held-out
list, stratified by class and seeded, so a fine-tune on real light curves keeps real objects it never saw for its
card. Writes object ids one per line (for `alerts features/evaluate --ids`). The ids stay outside the repository:
they are derived from ../shared/data, which is not ours to redistribute.

usage: real_split.py FEATURES.npz TRAIN_IDS.txt HELDOUT_IDS.txt [--train-fraction 0.7] [--seed 5]
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("features")
    ap.add_argument("train_ids")
    ap.add_argument("heldout_ids")
    ap.add_argument("--train-fraction", type=float, default=0.7)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    d = np.load(a.features)
    objs = d["objects"] if "objects" in d.files else d["ids"]
    ok = d["y"] >= 0
    uniq, first = np.unique(objs[ok], return_index=True)
    classes = d["y"][ok][first]
    rng = np.random.default_rng(a.seed)
    train = set()
    for c in np.unique(classes):
        ids = uniq[classes == c].copy()
        rng.shuffle(ids)
        train.update(ids[: int(round(len(ids) * a.train_fraction))])
    with open(a.train_ids, "w") as f:
        f.write("".join(f"{o}\n" for o in sorted(str(o) for o in uniq if o in train)))
    with open(a.heldout_ids, "w") as f:
        f.write("".join(f"{o}\n" for o in sorted(str(o) for o in uniq if o not in train)))
    print(f"{len(uniq)} labelled objects: {len(train)} train, {len(uniq) - len(train)} held out")


if __name__ == "__main__":
    main()
