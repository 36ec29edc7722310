"""The paper's pipeline (Methods 2.4-2.5) re-run on a site's cohort: a model file and every table.

The ALK half is :mod:`.alk`, the DFS half :mod:`.dfs`, Table 1 and the correlations :mod:`.tables`; this module
checks the cohort, runs them and writes the model file. Every estimate in the report says what it is
(:mod:`.estimates`): apparent, cross-validated (the paper's five-fold CV with the features chosen on all
patients), nested (selection inside the folds) or optimism-corrected; the report leads with the nested ones.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import Model, Parameter, Provenance, Regression, Standardization, Term, published
from ..model.derivations import Z_95
from ..model.schema import ReferencePopulation
from ..resources import load_parameters
from .alk import AlkResult, train_alk
from .common import SELECTION_FREQUENCY, Stopwatch, TrainSettings, standardize
from .dfs import DfsResult, train_dfs
from .estimates import KINDS
from .optimism import Optimism
from .tables import spearman, table1

__all__ = ["NOT_CLINICAL", "TrainSettings", "Training", "standardize", "train"]

#: Cohort columns that are not clinical candidates for the clinicopathological models.
NOT_CLINICAL = ("alk", "dfs_months", "event", "image", "mask", "label")


@dataclass(frozen=True)
class Training:
    """What ``train`` produced: the model file, the typed ALK and DFS results, the tables, and the figures' data.
    ``to_dict()`` is the JSON report."""

    model: Model
    cohort: str
    patients: int
    alk_positive: int
    features_offered: int
    features_constant: int
    settings: TrainSettings
    clinical_candidates: list[str]
    clinical_skipped: dict[str, str]
    alk: AlkResult
    dfs: DfsResult
    table1: dict
    spearman: dict
    seconds_per_stage: dict[str, float]
    optimism: Optimism | None = None
    curves: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {"cohort": self.cohort, "patients": self.patients, "alk_positive": self.alk_positive,
                "features_offered": self.features_offered, "features_constant": self.features_constant,
                "settings": self.settings.__dict__, "estimate_kinds": KINDS,
                "selection_frequency_meaning": SELECTION_FREQUENCY,
                "clinical_candidates": self.clinical_candidates, "clinical_skipped": self.clinical_skipped,
                "alk": self.alk.to_dict(), "dfs": self.dfs.to_dict()}
        if self.optimism is not None:
            data["optimism"] = self.optimism.to_dict()
        return {**data, "table1": self.table1, "spearman": self.spearman, "seconds_per_stage": self.seconds_per_stage}


def train(data: pd.DataFrame, features: list[str], *, cohort: str, command: str,
          settings: TrainSettings | None = None) -> Training:
    """Run the pipeline on ``data`` (one row per patient: ``alk``, the features, clinical columns)."""
    settings = settings or TrainSettings()
    clock = Stopwatch()
    today = datetime.date.today().isoformat()
    y = data["alk"].to_numpy(int)
    if min(y.sum(), len(y) - y.sum()) < 10:
        raise InputError(f"Training needs at least 10 ALK-positive and 10 ALK-negative patients; the cohort has "
                         f"{int(y.sum())} and {int(len(y) - y.sum())}.")
    has = _dfs_patients(data)  # refuse now rather than after minutes of ALK training
    X, scale = standardize(data, features)
    clinical, skipped = _clinical_candidates(data, features)
    clinical_frame = data[clinical].astype(float)
    alk = train_alk(X, clinical_frame, y, settings, clock)

    frame = X[has].copy()
    frame["time"] = data.loc[has, "dfs_months"].to_numpy(float)
    frame["event"] = data.loc[has, "event"].to_numpy(int)
    n_stage = None
    if "n_stage" in data and data.loc[has, "n_stage"].notna().all() and data.loc[has, "n_stage"].nunique() == 2:
        n_stage = data.loc[has, "n_stage"].to_numpy(float)
    dfs = train_dfs(frame, n_stage, settings, clock)

    optimism = None
    if settings.optimism_bootstraps:
        from .optimism import optimism_corrected

        optimism = optimism_corrected(data, features, alk, dfs, settings, clock)
    scores = {"rad_score": pd.Series(alk.rad_score, index=data.index)}
    if dfs.chosen:
        rad_risk = pd.Series(np.nan, index=data.index)
        rad_risk[has] = dfs.risk
        scores["rad_risk"] = rad_risk
    tables = table1(data, clinical), spearman(scores, data, clinical)
    clock.lap("tables")
    model = _model(data, alk, dfs, scale, clinical, cohort, command, today, settings)
    return Training(model, cohort, len(data), int(y.sum()), len(features), len(features) - X.shape[1], settings,
                    clinical, skipped, alk, dfs, *tables, clock.seconds, optimism, {**alk.curves, **dfs.curves})


def _model(data, alk: AlkResult, dfs: DfsResult, scale, clinical, cohort, command, today, settings) -> Model:
    def derived(method: str, where: str = "all patients") -> Provenance:
        return Provenance.derived(f"{cohort} ({len(data)} patients; {where})", method, command, today)

    y = data["alk"].to_numpy(int)
    prior = float(y.mean())
    dfs_part, dfs_note = _dfs_regression(data, dfs, derived)
    model_features = list(dict.fromkeys(alk.chosen + list(dfs_part.variables)))
    missing = [n for n in model_features if n not in data.columns]
    if missing:
        raise InputError(f"{dfs.absent} The published RAD-risk features {missing} are not in the features file to "
                         "fall back on; extract them (alk-radiomics batch --all) and train again.")
    scale = {**scale, **{n: (float(data[n].mean()), float(data[n].std(ddof=1))) for n in model_features
                         if n not in scale}}
    combined = alk.combined_fit is not None
    return Model(
        name="site-trained-alk-signature", version=f"1.0.0+{today}", calibrated=True,
        description=f"Trained on {cohort} ({len(data)} patients) with the pipeline of Han et al. (Methods "
                    f"2.4-2.5); features {', '.join(model_features)}.",
        citation=published.CITATION, extraction=load_parameters(),
        standardization={n: Standardization(Parameter(scale[n][0], derived("training-cohort mean")),
                                            Parameter(scale[n][1], derived("training-cohort SD (n - 1)")))
                         for n in model_features},
        reference=ReferencePopulation(
            description=f"The training cohort {cohort}: {len(data)} patients.",
            differs_from_paper="A site's own patients, with the paper's pipeline re-run on them.",
            cases=tuple(str(i) for i in data.index),
            feature_values={n: tuple(float(v) for v in data[n]) for n in model_features}),
        alk_radiomic=_logistic_regression(alk.rad_fit, alk.chosen, {n: (n, "per SD") for n in alk.chosen}, derived,
                                          "forward stepwise multivariate logistic regression",
                                          "Rad-score fitted on the training cohort.", prior=prior),
        alk_combined=(_logistic_regression(alk.combined_fit, ["rad_score", "hla", "pdl1"],
                                           {"rad_score": ("Rad-score", ""), "hla": ("HLA-I H-score", "0-300"),
                                            "pdl1": ("PD-L1 H-score", "0-300")}, derived,
                                           "multivariate logistic regression", "Combined model fitted on the "
                                           "training cohort.", prior=prior,
                                           variables={"hla": "hla_i_hscore", "pdl1": "pdl1_hscore"}, centred=False)
                      if combined else published.alk_combined()),
        dfs_radiomic=dfs_part,
        dfs_clinical=_n_stage_regression(dfs, derived),
        dfs_combined_note="The combined DFS model (N stage + RAD-risk) is in the training report, not stored, as in "
                          "the bundled model's structure.",
        notes=tuple(n for n in (
            f"Trained by alk-radiomics train with seed {settings.seed}; the training report holds every table.",
            None if combined else "The cohort has no HLA-I/PD-L1 H-scores: the combined ALK model is the bundled "
                                  "one, not refitted.",
            None if dfs.n_stage_fit is not None else "The cohort has no N stage: the N-stage DFS model is the "
                                                      "bundled one.",
            dfs_note,
        ) if n),
    )


def _dfs_regression(data: pd.DataFrame, dfs: DfsResult, derived) -> tuple[Regression, str | None]:
    """The trained RAD-risk; where none was trained, the published one (betas of Table 3) with this cohort's
    standardization and median cutoff, and a note saying why."""
    where = "ALK-positive patients"
    if dfs.chosen:
        intervals = np.asarray(dfs.fit.conf_int())
        terms = tuple(Term(n, Parameter(float(b), derived("Cox regression on the selected features", where),
                                        (float(lo), float(hi))), n, "per SD")
                      for n, b, (lo, hi) in zip(dfs.chosen, dfs.fit.params, intervals, strict=True))
        low, high = np.asarray(dfs.group_fit.conf_int())[0]
        return Regression(
            "cox", terms, cutoff=Parameter(dfs.cutoff, derived("median RAD-risk score", where)),
            group_hazard_ratio=Parameter(float(np.exp(dfs.group_fit.params[0])),
                                         derived("Cox regression of DFS on the high-risk group", where),
                                         (float(np.exp(low)), float(np.exp(high)))),
            description="RAD-risk fitted on the training cohort's ALK-positive patients."), None
    bundled = published.dfs_radiomic()
    positive = data["alk"] == 1
    if any(t.variable not in data.columns for t in bundled.terms):
        return bundled, None  # _model refuses with the names missing
    z = {t.variable: (data.loc[positive, t.variable] - data[t.variable].mean()) / data[t.variable].std(ddof=1)
         for t in bundled.terms}
    risk = sum(t.beta.value * z[t.variable] for t in bundled.terms)
    cutoff = Parameter(float(np.median(risk)), derived("median of the published RAD-risk score", where))
    return (published.dfs_radiomic(cutoff=cutoff),
            f"{dfs.absent} The DFS part is the published RAD-risk (Table 3 betas) with this cohort's standardization "
            "and median cutoff: not trained here, and not validated on this cohort.")


def _n_stage_regression(dfs: DfsResult, derived) -> Regression:
    if dfs.n_stage_fit is None:
        return published.dfs_clinical()
    low, high = dfs.n_stage_fit.conf_int()[0]
    term = Term("n_stage", Parameter(float(dfs.n_stage_fit.params[0]),
                                     derived("Cox regression of DFS on N stage", "ALK-positive patients"),
                                     (float(low), float(high))), "N stage (N1-2 vs N0)", "0 = N0, 1 = N1-2")
    return Regression("cox", (term,), description="N-stage DFS model fitted on the training cohort.")


def _clinical_candidates(data: pd.DataFrame, features: list[str]) -> tuple[list[str], dict[str, str]]:
    """Numeric clinical columns known for every patient; the others, with why they were left out."""
    candidates, skipped = [], {}
    for column in data.columns:
        if column in NOT_CLINICAL or column in features:
            continue
        values = pd.to_numeric(data[column], errors="coerce")
        if values.isna().any():
            skipped[column] = "not numeric, or missing for some patients"
        elif values.nunique() < 2:
            skipped[column] = "the same for every patient"
        else:
            candidates.append(column)
    return candidates, skipped


def _logistic_regression(fit, names, labels, derived, method, description, prior: float, variables=None,
                         centred: bool = True) -> Regression:
    """A fitted logistic model as a Regression; its intercept holds at the cohort's prevalence ``prior``.

    With ``centred=False`` (covariates such as H-scores not centred), the intercept's interval is that of the
    log-odds at the covariates' means (intercept_centres), from the fit's covariance matrix: the part of the
    intercept's error that does not move with the betas.
    """
    intervals = fit.conf_int()
    renamed = variables or {}
    terms = tuple(Term(renamed.get(n, n), Parameter(float(fit.params[n]), derived(method),
                                                    tuple(float(v) for v in intervals.loc[n])),
                       labels[n][0], labels[n][1]) for n in names)
    value = float(fit.params["const"])
    centres: dict[str, float] = {}
    if centred:
        ci = tuple(float(v) for v in intervals.loc["const"])
        how = "logistic regression intercept"
    else:
        exog = pd.DataFrame(fit.model.exog, columns=fit.model.exog_names)
        weights = exog.mean()
        se = float(np.sqrt(weights @ fit.cov_params().loc[weights.index, weights.index] @ weights))
        ci = (value - Z_95 * se, value + Z_95 * se)
        centres = {renamed.get(n, n): float(weights[n]) for n in names}
        how = ("logistic regression intercept; its 95 % interval is that of the log-odds at the covariates' means "
               "(intercept_centres), which varies independently of the betas")
    return Regression("logistic", terms, intercept=Parameter(value, derived(how), ci), intercept_prior=prior,
                      intercept_centres=centres, description=description)


def _dfs_patients(data: pd.DataFrame) -> pd.Series:
    """ALK-positive patients with known DFS; refuses a cohort with too few of them or too few events."""
    has = data["alk"] == 1
    for column in ("dfs_months", "event"):
        has &= data[column].notna() if column in data else False
    events = int(data.loc[has, "event"].sum()) if has.any() else 0
    if has.sum() < 20 or events < 10:
        raise InputError(f"Training the RAD-risk model needs dfs_months and event for at least 20 ALK-positive "
                         f"patients with 10 events; the cohort has {int(has.sum())} with {events} events.")
    return has
