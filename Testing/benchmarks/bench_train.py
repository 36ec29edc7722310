"""alk-radiomics train on simulated cohorts of 132 patients x 851 correlated features (issue 7).

Part 1 times one full run (500 bootstraps) stage by stage. Part 2 trains on ``--seeds`` cohorts
(in parallel, one process per core) and compares with the simulation's truth: were the true
drivers selected, and how far is each cross-validated AUC from the AUC of the true model on a
fresh sample of the same population? There is no stock-pyradiomics counterpart to compare with;
the paper did this in R and SPSS by hand.

    make benchmark-train            # or: python Testing/benchmarks/bench_train.py --seeds 10
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def _one_seed(seed: int, bootstraps: int) -> dict:
    warnings.simplefilter("ignore")
    from sklearn.metrics import roc_auc_score

    from ALKRadiomicsLib.training.simulate import ALK_DRIVERS, DFS_DRIVERS, simulate_cohort, true_auc_on_fresh_data
    from ALKRadiomicsLib.training.train import TrainSettings, train

    data = simulate_cohort(seed)
    features = [c for c in data.columns if c.startswith("f_")]
    start = time.perf_counter()
    result = train(data, features, cohort=f"simulated seed {seed}", command="bench_train",
                   settings=TrainSettings(seed=seed, bootstraps=bootstraps))
    seconds = time.perf_counter() - start
    model, report = result.model, result.report
    fresh = simulate_cohort(seed + 10_000)
    z = model.standardize  # the trained model applied to new patients from the same population
    fitted = [model.alk_radiomic.linear_predictor(z({n: float(row[n]) for n in model.feature_names}))
              for _, row in fresh.iterrows()]
    alk = {t.variable for t in model.alk_radiomic.terms}
    dfs = {t.variable for t in model.dfs_radiomic.terms}
    return {"seed": seed, "seconds": seconds, "stages": report["seconds_per_stage"],
            "alk_hit": len(alk & set(ALK_DRIVERS)), "alk_size": len(alk),
            "dfs_hit": len(dfs & set(DFS_DRIVERS)), "dfs_size": len(dfs),
            "true_auc": true_auc_on_fresh_data(seed), "cv_auc": report["roc_cv"]["radiomic"]["auc"],
            "nested_auc": report["alk_radiomic"]["nested_cv"]["auc"],
            "fitted_fresh_auc": float(roc_auc_score(fresh["alk"], fitted))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="simulated cohorts in part 2 (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes for part 2")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")

    print("\nPart 1: one run, 500 bootstraps, seed 0 (seconds per stage; includes skglm's one-off JIT compile)")
    timing = _one_seed(0, 500)
    for stage, seconds in timing["stages"].items():
        print(f"  {stage:<22} {seconds:7.1f}")
    print(f"  {'total':<22} {timing['seconds']:7.1f}")

    print(f"\nPart 2: {args.seeds} simulated cohorts (100 bootstraps each; they do not change selection or CV)")
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(_one_seed, range(1, args.seeds + 1), [100] * args.seeds))
    print("  seed  ALK drivers  DFS drivers  true AUC  CV AUC (paper)  nested CV AUC  trained model on fresh data")
    for r in runs:
        print(f"  {r['seed']:>4}  {r['alk_hit']}/3 of {r['alk_size']:<4}  {r['dfs_hit']}/2 of {r['dfs_size']:<4}"
              f"  {r['true_auc']:.3f}     {r['cv_auc']:.3f} ({r['cv_auc'] - r['true_auc']:+.3f})"
              f"   {r['nested_auc']:.3f} ({r['nested_auc'] - r['true_auc']:+.3f})   {r['fitted_fresh_auc']:.3f}")
    n = len(runs)
    cv_gap = np.array([r["cv_auc"] - r["true_auc"] for r in runs])
    nested_gap = np.array([r["nested_auc"] - r["true_auc"] for r in runs])
    print(f"\n  all 3 ALK drivers selected: {sum(r['alk_hit'] == 3 for r in runs)}/{n}; "
          f"both DFS drivers: {sum(r['dfs_hit'] == 2 for r in runs)}/{n}")
    print(f"  CV AUC within 0.05 of the true model's: {int(np.sum(np.abs(cv_gap) <= 0.05))}/{n} "
          f"(mean gap {cv_gap.mean():+.3f}); nested CV: {int(np.sum(np.abs(nested_gap) <= 0.05))}/{n} "
          f"(mean gap {nested_gap.mean():+.3f})")
    print(f"  trained model's AUC on fresh data, mean {np.mean([r['fitted_fresh_auc'] for r in runs]):.3f}; "
          f"true model's {np.mean([r['true_auc'] for r in runs]):.3f}")


if __name__ == "__main__":
    main()
