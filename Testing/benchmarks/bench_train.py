"""alk-radiomics train on simulated cohorts of 132 patients x 851 correlated features (issue 7).

Part 1 times one full run (500 bootstraps) stage by stage. Part 2 trains on ``--seeds`` cohorts
(in parallel, one process per core) and compares with the simulation's truth: were the true
drivers selected, and how far is each cross-validated AUC from the AUC of the true model on a
fresh sample of the same population? There is no stock-pyradiomics counterpart to compare with;
the paper did this in R and SPSS by hand. Part 3 (``--variants``) reruns only the selection
steps under the choices the paper leaves open (lambda rule, events per variable), which is how
the defaults were chosen.

    make benchmark-train            # or: python Testing/benchmarks/bench_train.py --seeds 10
    python Testing/benchmarks/bench_train.py --seeds 0 --variants 20
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


def _variants(seed: int) -> dict:
    """Selection alone on one cohort under each lambda rule and events-per-variable cap: drivers
    found, model size, and (ALK) the paper-style CV AUC and the fitted model's AUC on fresh data."""
    warnings.simplefilter("ignore")
    from sklearn.metrics import roc_auc_score

    from ALKRadiomicsLib.training import selection
    from ALKRadiomicsLib.training.simulate import ALK_DRIVERS, DFS_DRIVERS, simulate_cohort, true_auc_on_fresh_data
    from ALKRadiomicsLib.training.train import TrainSettings, _cv_log_odds, _dfs_patients, standardize

    data, fresh = simulate_cohort(seed), simulate_cohort(seed + 10_000)
    features = [c for c in data.columns if c.startswith("f_")]
    X, scale = standardize(data, features)
    y = data["alk"].to_numpy(int)
    has = _dfs_patients(data)
    frame = X[has].assign(time=data.loc[has, "dfs_months"], event=data.loc[has, "event"].astype(int))
    screened = {"alk": selection.screen_logistic(X, y), "dfs": selection.screen_cox(frame, features)}
    paths = {"alk": selection.lasso_logistic_path(X[screened["alk"]], y, seed),
             "dfs": selection.lasso_cox_path(frame, screened["dfs"], seed)}
    result = {"seed": seed, "true_auc": true_auc_on_fresh_data(seed)}
    smaller_class = min(y.sum(), len(y) - y.sum())
    for rule in ("min", "1se"):
        alk, dfs = (list(paths[k]["coefficients_by_rule"][rule]) for k in ("alk", "dfs"))
        for per in (10, 15, 20):
            chosen = selection.forward_logistic(X, y, alk, limit=selection.max_variables(smaller_class, per))
            fit = selection.logistic_fit(X[chosen], y)
            z = np.column_stack([(fresh[n] - scale[n][0]) / scale[n][1] for n in chosen])
            cv = roc_auc_score(y, _cv_log_odds(X, y, chosen, TrainSettings(seed=seed)))
            kept = selection.backward_cox(frame, dfs, limit=selection.max_variables(frame["event"].sum(), per))
            result[(rule, per)] = {
                "alk_candidates": len(alk), "alk_hit": len(set(chosen) & set(ALK_DRIVERS)), "alk_size": len(chosen),
                "fresh_auc": roc_auc_score(fresh["alk"], z @ fit.params[chosen].to_numpy()), "cv_auc": cv,
                "dfs_candidates": len(dfs), "dfs_hit": len(set(kept) & set(DFS_DRIVERS)), "dfs_size": len(kept)}
    return result


def _print_variants(runs: list[dict]) -> None:
    n = len(runs)
    print("  lambda  events/var  ALK: LASSO kept  all 3  size  CV-true (mean, within 0.05)  fresh AUC"
          "   DFS: LASSO kept  both  size")
    for key in [k for k in runs[0] if isinstance(k, tuple)]:
        rows = [r[key] for r in runs]
        gap = np.array([row["cv_auc"] - r["true_auc"] for row, r in zip(rows, runs, strict=True)])
        mean = {field: np.mean([row[field] for row in rows]) for field in rows[0]}
        print(f"  {key[0]:<6}  {key[1]:>10}  {mean['alk_candidates']:>14.1f}  "
              f"{sum(row['alk_hit'] == 3 for row in rows):>2}/{n}  {mean['alk_size']:>4.1f}  "
              f"{gap.mean():+.3f}, {int(np.sum(np.abs(gap) <= 0.05)):>2}/{n}{'':>13}{mean['fresh_auc']:.3f}"
              f"   {mean['dfs_candidates']:>14.1f}  {sum(row['dfs_hit'] == 2 for row in rows):>2}/{n}  "
              f"{mean['dfs_size']:>4.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="simulated cohorts in part 2 (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes for parts 2 and 3")
    parser.add_argument("--variants", type=int, default=0, metavar="SEEDS",
                        help="part 3: selection under each lambda rule and events-per-variable cap on this many "
                             "cohorts (default 0: skip)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    if args.variants:
        print(f"\nPart 3: selection alone on {args.variants} cohorts under the choices the paper leaves open")
        with ProcessPoolExecutor(args.workers) as pool:
            _print_variants(list(pool.map(_variants, range(1, args.variants + 1))))
    if not args.seeds:
        return

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
    # Nested CV estimates what the whole pipeline gives a new patient: compare it with the trained model.
    own = np.array([r["nested_auc"] - r["fitted_fresh_auc"] for r in runs])
    print(f"  nested CV AUC within 0.05 of the trained model's own fresh-data AUC: {int(np.sum(np.abs(own) <= 0.05))}"
          f"/{n} (mean gap {own.mean():+.3f})")


if __name__ == "__main__":
    main()
