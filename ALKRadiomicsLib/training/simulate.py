"""A simulated cohort whose truth is known, for testing and benchmarking ``train``.

851 features in correlated blocks of 8 (within-block correlation ``rho``); ALK status from a
logistic model on three driver features, sampled 1:1 (case-control, like the paper's design)
from a larger population; disease-free survival among the ALK-positive patients from a Cox
model on two other drivers, with uniform censoring. HLA-I and PD-L1 H-scores are lower in
ALK-positive patients (as in the paper); N stage, sex and age carry no signal.

The default DFS drivers' log-hazard ratios (1.2 and 1.0 per SD, about 40 events) are larger
than the paper's. ``PAPER_EFFECTS`` gives the cohort of issue 13 at the paper's size and effect
sizes: DFS drivers of log-HR 0.9 and -0.7 per SD and a baseline median of 80 months, which with
censoring uniform on 24-90 months gives about 32 events among the 66 ALK-positive patients (the
paper: 26 recurrences in 63). The acceptance benchmark (Testing/benchmarks/bench_train.py) uses it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALK_DRIVERS = {"f_0010": 1.1, "f_0200": -1.0, "f_0500": 0.9}
DFS_DRIVERS = {"f_0300": 1.2, "f_0700": 1.0}
PAPER_DFS_DRIVERS = {"f_0300": 0.9, "f_0700": -0.7}
#: simulate_cohort's keyword arguments for the paper's DFS effect sizes and about 32 events.
PAPER_EFFECTS = {"dfs_drivers": PAPER_DFS_DRIVERS, "baseline_months": 80.0}


def simulate_cohort(seed: int, *, patients: int = 132, features: int = 851, rho: float = 0.5,
                    intercept: float = -2.0, dfs_drivers: dict[str, float] | None = None,
                    baseline_months: float = 50.0, alk_drivers: dict[str, float] | None = None) -> pd.DataFrame:
    """One cohort (see the module's docstring). ``dfs_drivers`` (default DFS_DRIVERS) are the true log-HRs per SD;
    exponential event times with mean ``baseline_months`` / hazard. ``alk_drivers`` (default ALK_DRIVERS) are the
    true ALK log-ORs per SD; ``alk_drivers={}`` makes ALK status independent of every feature while the H-scores
    still differ by ALK status: a cohort where the combined model adds nothing to the clinical one by
    construction."""
    rng = np.random.default_rng(seed)
    population = patients * 20
    blocks = rng.normal(size=(population, features // 8 + 1))
    noise = rng.normal(size=(population, features))
    X = np.sqrt(rho) * np.repeat(blocks, 8, axis=1)[:, :features] + np.sqrt(1 - rho) * noise
    names = [f"f_{k:04d}" for k in range(features)]
    frame = pd.DataFrame(X, columns=names)
    drivers = ALK_DRIVERS if alk_drivers is None else alk_drivers
    log_odds = intercept + sum((beta * frame[name] for name, beta in drivers.items()), np.zeros(population))
    alk = rng.binomial(1, 1 / (1 + np.exp(-log_odds)))
    cases = rng.choice(np.flatnonzero(alk == 1), patients // 2, replace=False)
    controls = rng.choice(np.flatnonzero(alk == 0), patients - patients // 2, replace=False)
    cohort = frame.iloc[np.concatenate([cases, controls])].reset_index(drop=True)
    cohort.insert(0, "alk", [1] * len(cases) + [0] * len(controls))
    hazard = np.exp(sum(beta * cohort[name] for name, beta in (dfs_drivers or DFS_DRIVERS).items()))
    event_time = rng.exponential(baseline_months / hazard)
    censor = rng.uniform(24, 90, len(cohort))
    positive = cohort["alk"] == 1
    cohort["dfs_months"] = np.where(positive, np.minimum(event_time, censor), np.nan)
    cohort["event"] = np.where(positive, (event_time <= censor).astype(float), np.nan)
    cohort["hla"] = np.clip(rng.normal(np.where(positive, 40, 100), 50), 0, 300)
    cohort["pdl1"] = np.clip(rng.normal(np.where(positive, 40, 90), 50), 0, 300)
    cohort["n_stage"] = rng.binomial(1, 0.3, len(cohort)).astype(float)
    cohort["sex"] = rng.binomial(1, 0.5, len(cohort)).astype(float)
    cohort["age"] = np.round(rng.normal(58, 9, len(cohort)))
    cohort.index = [f"P{k:03d}" for k in range(len(cohort))]
    return cohort


def true_auc_on_fresh_data(seed: int, **kwargs) -> float:
    """AUC of the true ALK linear predictor on a fresh 1:1 sample."""
    from sklearn.metrics import roc_auc_score

    fresh = simulate_cohort(seed + 10_000, **kwargs)
    truth = sum(beta * fresh[name] for name, beta in ALK_DRIVERS.items())
    return float(roc_auc_score(fresh["alk"], truth))


def write_cohort(seed: int, folder, **kwargs) -> tuple[str, str]:
    """The simulated cohort as the files ``train`` reads: a cohort CSV (images not needed, their
    paths are placeholders) and a features CSV as ``batch`` writes it. Returns both paths."""
    from pathlib import Path

    folder = Path(folder)
    cohort = simulate_cohort(seed, **kwargs)
    features = [c for c in cohort.columns if c.startswith("f_")]
    clinical = cohort.drop(columns=features)
    clinical.insert(0, "mask", [f"masks/{i}.nrrd" for i in cohort.index])
    clinical.insert(0, "image", [f"images/{i}.nrrd" for i in cohort.index])
    for column in ("event", "n_stage", "sex"):
        clinical[column] = clinical[column].astype("Int64")  # 0/1, as a person would write them
    clinical.index.name = "id"
    cohort_path, features_path = folder / f"simulated_{seed}.csv", folder / f"simulated_{seed}_features.csv"
    clinical.to_csv(cohort_path, na_rep="")
    table = cohort[features].copy()
    table.insert(0, "error", "")
    table.index.name = "id"
    table.to_csv(features_path, float_format="%.17g")
    return str(cohort_path), str(features_path)
