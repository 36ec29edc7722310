"""alk-radiomics train on cohorts simulated at the paper's size and effect sizes (issue 13 acceptance).

Truth (ALKRadiomicsLib.training.simulate, PAPER_EFFECTS): 132 patients (66 ALK-positive, 1:1 case-control) x
851 features in correlated blocks of 8 (rho 0.5); ALK log-odds 1.1, -1.0, 0.9 per SD on f_0010, f_0200, f_0500;
DFS among ALK-positive patients log-HR 0.9 and -0.7 per SD on f_0300, f_0700, about 32 events.

Part 1 runs Harrell's optimism bootstrap (``--optimism N`` resamples of the whole pipeline, ``--workers``
processes) on a 132 x 851 cohort: wall time in all and each half's seconds per resample. Part 2 trains with the
defaults on ``--seeds`` cohorts (printing one run's seconds per stage) and measures, for each, the drivers
selected and the nested / apparent AUC and C against the same trained pipeline's AUC and C on a large
independent cohort (1000 patients) from the same truth; beside the DFS drivers, whether LASSO's survivors held
both, what the data allow (:func:`_true_pair_rank`), and how often the nested CV's folds chose again the
chosen drivers and the chosen non-drivers. Part 3
(``--null N``): on N cohorts where ALK status is independent of every feature (the combined model adds nothing
to the clinical one by construction), the nested out-of-fold DeLong P of combined vs clinicopathological.

    make benchmark-train      # or: python Testing/benchmarks/bench_train.py --seeds 10 --null 10 --optimism 500
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def _one_seed(seed: int) -> dict:
    warnings.simplefilter("ignore")
    from sklearn.metrics import roc_auc_score

    from ALKRadiomicsLib import stats
    from ALKRadiomicsLib.training.simulate import ALK_DRIVERS, PAPER_DFS_DRIVERS, PAPER_EFFECTS, simulate_cohort
    from ALKRadiomicsLib.training.train import TrainSettings, train

    data = simulate_cohort(seed, **PAPER_EFFECTS)
    features = [c for c in data.columns if c.startswith("f_")]
    start = time.perf_counter()
    result = train(data, features, cohort=f"simulated seed {seed}", command="bench_train",
                   settings=TrainSettings(seed=seed, bootstraps=100))
    seconds = time.perf_counter() - start
    model, report = result.model, result.to_dict()
    fresh = simulate_cohort(seed + 10_000, patients=1000, **PAPER_EFFECTS)
    z = np.column_stack([(fresh[n] - model.standardization[n].mean.value) / model.standardization[n].sd.value
                         for n in model.feature_names])
    names = list(model.feature_names)
    rad = sum(t.beta.value * z[:, names.index(t.variable)] for t in model.alk_radiomic.terms)
    out = {"seed": seed, "seconds": seconds, "stages": report["seconds_per_stage"],
           "alk_hit": len({t.variable for t in model.alk_radiomic.terms} & set(ALK_DRIVERS)),
           "alk_size": len(model.alk_radiomic.terms),
           "auc_nested": report["alk"]["auc"]["radiomic"]["nested"]["value"],
           "auc_apparent": report["alk"]["auc"]["radiomic"]["apparent"]["value"],
           "auc_fresh": float(roc_auc_score(fresh["alk"], rad)), "dfs_hit": 0, "dfs_size": 0,
           "lasso_hit": len(set(report["dfs"]["selection"]["lasso_selected"]) & set(PAPER_DFS_DRIVERS)),
           "pair_rank": _true_pair_rank(data),
           "alk_folds": _fold_counts(report["alk"]["selection_frequency"], ALK_DRIVERS)}
    dfs = report["dfs"]
    if "absent" not in dfs:
        positive = (fresh["alk"] == 1).to_numpy()
        risk = sum(t.beta.value * z[:, names.index(t.variable)] for t in model.dfs_radiomic.terms)[positive]
        out.update(dfs_hit=len(set(dfs["selection"]["selected"]) & set(PAPER_DFS_DRIVERS)),
                   lasso_hit=len(set(dfs["selection"]["lasso_selected"]) & set(PAPER_DFS_DRIVERS)),
                   dfs_size=len(dfs["selection"]["selected"]),
                   dfs_folds=_fold_counts(dfs["selection_frequency"], PAPER_DFS_DRIVERS),
                   c_nested=dfs["estimates"]["c_index"]["nested"]["value"],
                   c_apparent=dfs["estimates"]["c_index"]["apparent"]["value"],
                   c_fresh=stats.harrell_c(fresh.loc[positive, "dfs_months"], fresh.loc[positive, "event"], risk))
    return out


def _true_pair_rank(data) -> int:
    """What the data allow: the rank of the true pair (f_0300, f_0700) among every pair of the features that pass
    univariate screening (the drivers added if they do not), by the partial likelihood of the two-feature Cox
    model (1: the true pair is the likeliest). Where it is not 1, the data favour another pair, and a RAD-risk of
    two or three features chosen on these patients holds both drivers only by the luck of its third."""
    from itertools import combinations

    from ALKRadiomicsLib.training import selection
    from ALKRadiomicsLib.training.common import standardize
    from ALKRadiomicsLib.training.simulate import PAPER_DFS_DRIVERS

    features = [c for c in data.columns if c.startswith("f_")]
    X, _ = standardize(data, features)
    positive = (data["alk"] == 1).to_numpy()
    frame = X[positive].assign(time=data.loc[positive, "dfs_months"].to_numpy(),
                               event=data.loc[positive, "event"].to_numpy(int))
    pool = list(dict.fromkeys(selection.screen_cox(frame, features) + list(PAPER_DFS_DRIVERS)))
    pairs = np.array(list(combinations(range(len(pool)), 2)))
    llf = selection.subset_breslow_llf(frame[pool].to_numpy(float), frame["time"].to_numpy(),
                                       frame["event"].to_numpy(), pairs)
    truth = {pool.index(name) for name in PAPER_DFS_DRIVERS}
    return next(rank for rank, k in enumerate(np.argsort(-llf), 1) if set(pairs[k]) == truth)


def _fold_counts(frequency: dict, drivers) -> tuple[list[int], list[int]]:
    """The nested folds' counts of the chosen features that are true drivers, and of those that are not."""
    chosen = frequency["chosen"]
    return [c for n, c in chosen.items() if n in drivers], [c for n, c in chosen.items() if n not in drivers]


def _null_seed(seed: int) -> float:
    warnings.simplefilter("ignore")
    from ALKRadiomicsLib.training import alk
    from ALKRadiomicsLib.training.common import TrainSettings, standardize
    from ALKRadiomicsLib.training.simulate import simulate_cohort

    data = simulate_cohort(seed, alk_drivers={})
    X, _ = standardize(data, [c for c in data.columns if c.startswith("f_")])
    y = data["alk"].to_numpy(int)
    nested, _, _ = alk.nested_predictions(X, data[["hla", "pdl1"]].astype(float), y, TrainSettings(seed=seed))
    return alk.delong_comparisons(y, nested, "nested")["clinicopathological vs combined"].p


def _optimism_timing(resamples: int, workers: int) -> dict:
    warnings.simplefilter("ignore")
    from ALKRadiomicsLib.training import optimism
    from ALKRadiomicsLib.training.common import TrainSettings
    from ALKRadiomicsLib.training.simulate import PAPER_EFFECTS, simulate_cohort

    data = simulate_cohort(0, **PAPER_EFFECTS).reset_index(drop=True)
    features = [c for c in data.columns if c.startswith("f_")]
    start = time.perf_counter()
    results = optimism.run_resamples(data, features, TrainSettings(seed=0, optimism_bootstraps=resamples,
                                                                   workers=workers))
    return {"seconds": time.perf_counter() - start, "alk": np.mean([r["alk_seconds"] for r in results]),
            "dfs": np.mean([r["dfs_seconds"] for r in results]),
            "fitted": sum(np.isfinite(r["alk_original"]) and np.isfinite(r["dfs_original"]) for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="simulated cohorts in part 2 (default 10)")
    parser.add_argument("--first-seed", type=int, default=1, help="the first cohort's seed (default 1)")
    parser.add_argument("--null", type=int, default=10, help="null cohorts in part 3 (default 10)")
    parser.add_argument("--optimism", type=int, default=500, help="optimism-bootstrap resamples (default 500)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes")
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"machine: {cores} cores")
    if args.optimism:
        timing = _optimism_timing(args.optimism, args.workers)
        print(f"\nPart 1: optimism bootstrap, {args.optimism} resamples of the whole pipeline with --workers "
              f"{args.workers}: {timing['seconds']:.0f} s wall ({timing['seconds'] / 60:.1f} min); per resample, "
              f"in its worker: ALK half {timing['alk']:.2f} s, DFS half {timing['dfs']:.2f} s; both halves fitted "
              f"on {timing['fitted']}/{args.optimism}")
    if args.seeds:
        with ProcessPoolExecutor(args.workers) as pool:
            runs = list(pool.map(_one_seed, range(args.first_seed, args.first_seed + args.seeds)))
        stages = ", ".join(f"{k} {v:.1f}" for k, v in runs[0]["stages"].items())
        print(f"\n  stages of seed {runs[0]['seed']} (s): {stages}; total {runs[0]['seconds']:.1f}")
        print("\nPart 2: seed  ALK drivers  DFS drivers (LASSO; pair rank)  AUC nested / apparent / fresh   "
              "C nested / apparent / fresh")
        for r in runs:
            c = (f"{r['c_nested']:.3f} / {r['c_apparent']:.3f} / {r['c_fresh']:.3f}" if "c_nested" in r
                 else "no RAD-risk")
            print(f"  {r['seed']:>4}  {r['alk_hit']}/3 of {r['alk_size']:<4}  {r['dfs_hit']}/2 of {r['dfs_size']:<4}"
                  f"({r['lasso_hit']}/2; {r['pair_rank']:>3})            "
                  f"{r['auc_nested']:.3f} / {r['auc_apparent']:.3f} / {r['auc_fresh']:.3f}        {c}")
        n, with_c = len(runs), [r for r in runs if "c_nested" in r]
        print(f"\n  completed {n}/{n}; ALK >= 2 of 3 drivers {sum(r['alk_hit'] >= 2 for r in runs)}/{n}; "
              f"both DFS drivers {sum(r['dfs_hit'] == 2 for r in runs)}/{n} (among LASSO's survivors "
              f"{sum(r['lasso_hit'] == 2 for r in runs)}/{n}; the true pair the likeliest of all screened pairs: "
              f"{sum(r['pair_rank'] == 1 for r in runs)}/{n})")
        for label, key in (("ALK", "alk_folds"), ("DFS", "dfs_folds")):
            drivers = [c for r in runs if key in r for c in r[key][0]]
            others = [c for r in runs if key in r for c in r[key][1]]
            print(f"  {label}: the nested folds chose again a chosen driver in a mean {np.mean(drivers):.1f}/5 "
                  f"({len(drivers)} chosen), a chosen non-driver in {np.mean(others):.1f}/5 ({len(others)} chosen)")
        for label, key in (("AUC", "auc"), ("C", "c")):
            rows = runs if key == "auc" else with_c
            if rows:
                nested = np.mean([r[f"{key}_nested"] - r[f"{key}_fresh"] for r in rows])
                apparent = np.mean([r[f"{key}_apparent"] - r[f"{key}_fresh"] for r in rows])
                print(f"  {label}: mean nested - fresh {nested:+.3f}; mean apparent - fresh {apparent:+.3f} "
                      f"({len(rows)} seeds)")
    if args.null:
        with ProcessPoolExecutor(args.workers) as pool:
            p = list(pool.map(_null_seed, range(args.first_seed, args.first_seed + args.null)))
        print(f"\nPart 3: combined vs clinicopathological, nested DeLong P on {args.null} null cohorts: "
              + ", ".join(f"{v:.3f}" for v in p) + f"; above 0.05 in {sum(v > 0.05 for v in p)}/{args.null}")


if __name__ == "__main__":
    main()
