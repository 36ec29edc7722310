"""Harrell's optimism-corrected bootstrap of the whole pipeline (Regression Modeling Strategies, 2nd ed., 5.3.5).

On each resample the pipeline is run again from the start (screening, LASSO with its CV, stepwise or best subset,
fits): the model's AUC / C on the resample (its apparent value there) minus the same model's AUC / C on the
original patients is that resample's optimism. The corrected estimate is the apparent one minus the mean optimism.
Resamples are drawn from one seed sequence (resample b's indices depend on the seed and b only), so a parallel
run (joblib processes) gives the same numbers as a serial one.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import stats
from . import selection
from .alk import select_alk_features
from .common import (
    BOOTSTRAP_RERUN,
    SelectionFrequency,
    TrainSettings,
    log_odds,
    selection_frequency,
    standardize,
)
from .dfs import select_dfs_features
from .estimates import OPTIMISM_CORRECTED, Result


def resample_indices(seed: int, resamples: int, n: int) -> list[np.ndarray]:
    """Resample b's patient indices, drawn from its own child of the seed sequence."""
    return [np.random.default_rng(child).integers(0, n, n)
            for child in np.random.SeedSequence(seed).spawn(resamples)]


def one_resample(data: pd.DataFrame, features: list[str], sample: np.ndarray, settings: TrainSettings) -> dict:
    """The pipeline refitted on ``data.iloc[sample]``: AUC of the Rad-score and C of the RAD-risk on the resample
    and on the original patients, the features each half chose, and seconds per stage. NaN where the resample
    could not be fitted; chosen (each half's selection, without its LASSO path) None where the resample was too
    small to select on (under 10 per class or 10 events)."""
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    out = {"alk_apparent": np.nan, "alk_original": np.nan, "dfs_apparent": np.nan, "dfs_original": np.nan,
           "alk_chosen": None, "dfs_chosen": None}
    boot = data.iloc[sample].reset_index(drop=True)
    X_boot, scale = standardize(boot, features)
    names = list(X_boot.columns)
    X_orig = pd.DataFrame({n: (data[n].to_numpy(float) - scale[n][0]) / scale[n][1] for n in names})
    y_boot, y_orig = boot["alk"].to_numpy(int), data["alk"].to_numpy(int)
    trainable = min(y_boot.sum(), len(y_boot) - y_boot.sum()) >= 10
    chosen = []
    if trainable:
        steps = select_alk_features(X_boot, y_boot, settings)
        chosen = steps.selected
        out["alk_chosen"] = replace(steps, screened=[], lasso=None)  # the choice and its cap, not the LASSO path
    if chosen:
        fit = selection.logistic_fit(X_boot[chosen], y_boot)
        out["alk_apparent"] = stats.auc_ci(y_boot, log_odds(fit, X_boot, chosen))[0]
        out["alk_original"] = stats.auc_ci(y_orig, log_odds(fit, X_orig, chosen))[0]
    out["alk_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    boot_pos, orig_pos = (boot["alk"] == 1).to_numpy(), (data["alk"] == 1).to_numpy()
    frame = X_boot[boot_pos].assign(time=boot.loc[boot_pos, "dfs_months"].to_numpy(float),
                                   event=boot.loc[boot_pos, "event"].to_numpy(int)).reset_index(drop=True)
    if frame["event"].sum() >= 10:
        steps = select_dfs_features(frame, names, settings)
        chosen = steps.selected
        out["dfs_chosen"] = replace(steps, screened=[], lasso=None)
        if chosen:
            fit = selection.cox_fit(frame, chosen)
            out["dfs_apparent"] = stats.harrell_c(frame["time"], frame["event"], frame[chosen].to_numpy() @ fit.params)
            original = X_orig[orig_pos][chosen].to_numpy() @ fit.params
            out["dfs_original"] = stats.harrell_c(data.loc[orig_pos, "dfs_months"], data.loc[orig_pos, "event"],
                                                  original)
    out["dfs_seconds"] = time.perf_counter() - started
    return out


def run_resamples(data: pd.DataFrame, features: list[str], settings: TrainSettings) -> list[dict]:
    """Every resample's result, in resample order (serial, or ``settings.workers`` joblib processes)."""
    samples = resample_indices(settings.seed, settings.optimism_bootstraps, len(data))
    if settings.workers <= 1:
        return [one_resample(data, features, s, settings) for s in samples]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=settings.workers)(delayed(one_resample)(data, features, s, settings) for s in samples)


@dataclass(frozen=True)
class Corrected(Result):
    """An apparent statistic less the mean optimism of the whole pipeline over ``resamples_used`` resamples."""

    value: float
    apparent: float
    optimism: float
    resamples_used: int
    estimate: str = OPTIMISM_CORRECTED


@dataclass(frozen=True)
class Optimism(Result):
    """Harrell's optimism-corrected bootstrap: the corrected Rad-score AUC and RAD-risk C (``estimates``), and the
    mean seconds one resample spent in each half of the pipeline; ``frequencies`` how often the resamples chose the
    Rad-score's and the RAD-risk's features again (Sauerbrei and Schumacher's bootstrap inclusion frequencies)."""

    resamples: int
    workers: int
    estimates: dict[str, Corrected]
    seconds_per_resample: dict[str, float]
    frequencies: dict[str, SelectionFrequency]


def optimism_corrected(data: pd.DataFrame, features: list[str], alk, dfs, settings: TrainSettings, clock) -> Optimism:
    """The apparent Rad-score AUC and RAD-risk C corrected by the mean optimism over the resamples."""
    results = run_resamples(data.reset_index(drop=True), features, settings)
    clock.lap("optimism_bootstrap")
    estimates = {}
    apparent = {"rad_score_auc": alk.auc["radiomic"]["apparent"].value}
    if dfs.chosen:
        apparent["rad_risk_c_index"] = dfs.estimates["c_index"]["apparent"].value
    for name, key in (("rad_score_auc", "alk"), ("rad_risk_c_index", "dfs")):
        if name not in apparent:
            continue
        gaps = np.array([r[f"{key}_apparent"] - r[f"{key}_original"] for r in results])
        used = gaps[np.isfinite(gaps)]
        optimism = float(used.mean()) if len(used) else float("nan")
        estimates[name] = Corrected(apparent[name] - optimism, apparent[name], optimism, int(len(used)))
    frequencies = {name: selection_frequency(steps, runs, BOOTSTRAP_RERUN)
                   for name, steps, key in (("rad_score", alk.steps, "alk"), ("rad_risk", dfs.steps, "dfs"))
                   if steps.selected
                   and (runs := [r[f"{key}_chosen"] for r in results if r[f"{key}_chosen"] is not None])}
    return Optimism(settings.optimism_bootstraps, settings.workers, estimates,
                    {"alk": float(np.mean([r["alk_seconds"] for r in results])),
                     "dfs": float(np.mean([r["dfs_seconds"] for r in results]))}, frequencies)
