"""Joins two `alerts features` files into one training set for train_t2.py: the simulator's features without the
objects listed in --exclude (the held-out objects the shipped card is evaluated on, so they stay unseen), plus a
second set (e.g. the training split of real BTS light curves, object ids prefixed so they cannot collide).

usage: combine_features.py SIM.npz REAL.npz OUT.npz [--exclude heldout.txt] [--prefix bts:]
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sim")
    ap.add_argument("real")
    ap.add_argument("out")
    ap.add_argument("--exclude", help="object ids (one per line) to leave out of the first set")
    ap.add_argument("--prefix", default="real:")
    a = ap.parse_args()
    sim, real = np.load(a.sim), np.load(a.real)
    exclude = set(open(a.exclude).read().split()) if a.exclude else set()
    keep = np.array([str(o) not in exclude for o in sim["objects"]])
    out = {}
    for k in ["X", "y", "objects", "alert_sample", "ids"]:
        first, second = sim[k][keep], real[k]
        if k in ("objects", "ids"):
            first, second = first.astype(str), np.array([a.prefix + str(o) for o in second])
        out[k] = np.concatenate([first, second])
    if [str(c) for c in sim["channels"]] != [str(c) for c in real["channels"]]:
        raise SystemExit(f"{a.real}: channels {list(real['channels'])} differ from {a.sim}'s {list(sim['channels'])}")
    out["channels"], out["classes"] = sim["channels"], sim["classes"]
    np.savez(a.out, **out)
    print(f"{int(keep.sum())} of {len(keep)} rows from {a.sim}, {len(real['y'])} from {a.real} -> {a.out}")


if __name__ == "__main__":
    main()
