"""Scoring one case with a model file: ALK probability, Rad-score, RAD-risk group (DESIGN 4-5).

Every score comes with the model's domain verdict (:mod:`.domain`: is the case inside the
reference population the model's numbers come from?) and a Monte Carlo interval whose coverage is
stated (:mod:`.uncertainty`). Probabilities are at the prevalence the model's intercept holds at
(``intercept_prior``), or converted from it to the prevalence the user gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import SimpleITK as sitk

from .. import __version__
from ..errors import InputError
from ..features import ExtractionSettings, compute_features
from ..features.preprocess import label_bounding_box
from ..features.signature import compute_features_of_shifted_outlines
from ..io import Case
from ..model import Model, Regression, load_bundled_model
from ..segmentation.review import OutlineReview, review_mask
from .domain import Domain, model_domain
from .result import (
    AlkResult,
    CaseResult,
    Component,
    DfsResult,
    FeatureReport,
    GroupHazardRatio,
    Interval,
    ModelIdentity,
    Uncertainty,
)
from .uncertainty import COMPONENTS, DRAWS, MonteCarlo, Spread, covers, spread

H_SCORE_RANGE = (0.0, 300.0)
N_STAGES = {"N0": 0, "N1-2": 1, "N1": 1, "N2": 1}
THICK_SLICE_MM = 2.5  # the paper reconstructed at 1.25-1.5 mm


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def check_h_score(value: float | None, name: str) -> float | None:
    """An H-score in 0-300, or None when not given."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} H-score must be a number from 0 to 300, got {value!r}.") from None
    if not (H_SCORE_RANGE[0] <= number <= H_SCORE_RANGE[1]) or math.isnan(number):
        raise InputError(f"{name} H-score must be from 0 to 300 (intensity 0-3 x % of cells), got {value!r}.")
    return number


def check_n_stage(value: str | None) -> str | None:
    """'N0' or 'N1-2' (N1 and N2 are both N1-2), or None."""
    if value is None:
        return None
    key = str(value).strip().upper()
    if key not in N_STAGES:
        raise InputError(f"N stage must be N0 or N1-2 (N1, N2), got {value!r}.")
    return "N0" if N_STAGES[key] == 0 else "N1-2"


def check_prevalence(value: float | None) -> float | None:
    """An ALK prevalence strictly between 0 and 1, or None (then the model's intercept prior is used)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"Prevalence must be a fraction between 0 and 1 (e.g. 0.05), got {value!r}.") from None
    if not 0.0 < number < 1.0:
        raise InputError(f"Prevalence must be a fraction strictly between 0 and 1 (e.g. 0.05 for 5 %), got {value!r}.")
    return number


def at_prior(log_odds: float, regression: Regression, prior: float) -> float:
    """P(ALK) at ``prior`` from log-odds that hold at the regression's intercept prior (Bayes' rule on the odds:
    the likelihood ratio stays, the prior odds are exchanged)."""
    return logistic(log_odds - logit(regression.intercept_prior) + logit(prior))


def score_case(case: Case, *, model: Model | None = None, hla: float | None = None, pdl1: float | None = None,
               n_stage: str | None = None, prevalence: float | None = None,
               outline_uncertainty: bool = True, draws: int = DRAWS,
               progress: Callable[[str, float], None] | None = None) -> CaseResult:
    """Score a validated case (paper sections 2.4-2.5; DESIGN sections 4-5).

    ``hla`` and ``pdl1`` are H-scores (0-300), both or neither; ``n_stage`` is "N0" or "N1-2";
    ``prevalence`` is the ALK prevalence for the displayed probability (default: the prevalence the
    model's intercept holds at, ``intercept_prior``). ``progress(stage, fraction)`` is called between the
    stages (a front end updates its progress bar there, and may raise to cancel).
    """
    report = progress or (lambda stage, fraction: None)
    model = load_bundled_model() if model is None else model
    hla = check_h_score(hla, "HLA-I")
    pdl1 = check_h_score(pdl1, "PD-L1")
    if (hla is None) != (pdl1 is None):
        raise InputError("Give both HLA-I and PD-L1 H-scores (--hla and --pdl1): the combined model needs both.")
    stage = check_n_stage(n_stage)
    given_prior = check_prevalence(prevalence)
    prior = given_prior if given_prior is not None else model.alk_radiomic.intercept_prior
    settings = ExtractionSettings.from_parameters(model.extraction)
    warnings: list[str] = []
    if model.research_use_only:
        warnings.append(f"Research use only; not locally validated: model {model.name} {model.version} carries no "
                        "validation on independent patients that passes the gates"
                        + (" (it was recalibrated or trained on local patients, which is not a validation)."
                           if model.calibrated else "."))
    warnings.extend(f"The model file was flagged when it was made: {flag}" for flag in model.flags)
    warnings.extend(case.notes)

    report("reviewing the outline", 0.0)
    # One pass over the (CT-sized) mask for the outline's extent, shared by the steps below.
    extent = label_bounding_box(sitk.GetArrayViewFromImage(case.mask) == case.label)
    outline = _outline_review(case, extent, warnings)
    report("computing the signature features", 0.15)
    by_outline = _features_by_outline(case, model, settings, outline_uncertainty, warnings)
    features = by_outline["as drawn"]
    z = model.standardize(features)
    domains = {key: model_domain(model, regression, features, outline.volume_mm3, what)
               for key, regression, what in (("alk", model.alk_radiomic, "Rad-score (ALK model)"),
                                             ("dfs", model.dfs_radiomic, "RAD-risk score (DFS model)"))}
    warnings.extend(d.reason for d in domains.values() if d.status != "inside")

    h_scores = {"hla_i_hscore": hla, "pdl1_hscore": pdl1} if hla is not None else None
    report("computing the uncertainty", 0.75)
    monte_carlo = MonteCarlo(model, by_outline, h_scores, draws=draws)
    joint = monte_carlo.simulate()
    alone = {c: monte_carlo.simulate(frozenset({c})) for c in COMPONENTS}
    statement = covers(model, draws, outline=len(by_outline) > 1)

    def uncertainty(attribute: str, transform: Callable[[float], float] = lambda x: x) -> Uncertainty:
        result = spread(getattr(joint, attribute), {k: getattr(v, attribute) for k, v in alone.items()})
        return _transformed(result, transform, statement)

    rad = model.alk_radiomic.linear_predictor(z)
    combined_logit = None
    if h_scores is not None:
        combined_logit = model.alk_combined.linear_predictor({"rad_score": rad, **h_scores})
        warnings.append("The published HLA-I and PD-L1 odds ratios (0.99 per point) are rounded; the combined "
                        "probability's interval covers every per-point beta consistent with the printed numbers.")
    alk = AlkResult(
        rad_score=rad,
        rad_score_uncertainty=uncertainty("rad_score"),
        prior=prior,
        prior_source="model" if given_prior is None else "user",
        intercept_prior=model.alk_radiomic.intercept_prior,
        probability=at_prior(rad, model.alk_radiomic, prior),
        probability_uncertainty=uncertainty("rad_score", lambda x: at_prior(x, model.alk_radiomic, prior)),
        probability_at_intercept_prior=logistic(rad),
        hla_i_hscore=hla,
        pdl1_hscore=pdl1,
        combined_logit=combined_logit,
        combined_probability=at_prior(combined_logit, model.alk_combined, prior) if h_scores else None,
        combined_probability_uncertainty=(uncertainty("combined", lambda x: at_prior(x, model.alk_combined, prior))
                                          if h_scores else None),
        domain=domains["alk"],
    )
    risk = model.dfs_radiomic.linear_predictor(z)
    high_fraction = float(np.mean(joint.rad_risk > joint.cutoff))
    dfs = _dfs_result(model, risk, uncertainty("rad_risk"), high_fraction, domains["dfs"], stage, warnings)
    reports = _feature_reports(model, z, domains.values())
    report("done", 1.0)
    return CaseResult(
        model=ModelIdentity(model.name, model.version, model.sha256, model.calibrated, model.path),
        research_use_only=model.research_use_only,
        validation_claim=model.validation.summary() if model.validation is not None else None,
        alk=alk, dfs=dfs, features=features, feature_reports=reports, outline=outline,
        warnings=tuple(warnings), software_version=__version__,
    )


def _transformed(result: Spread, transform: Callable[[float], float], statement: str) -> Uncertainty:
    """An Uncertainty on the scale of ``transform`` (increasing, so percentiles map to percentiles)."""
    def interval(pair: tuple[float, float]) -> Interval:
        return Interval(transform(pair[0]), transform(pair[1]))

    return Uncertainty(interval(result.interval),
                       {k: Component(interval(i), share) for k, (i, share) in result.components.items()}, statement)


def _dfs_result(model: Model, risk: float, uncertainty: Uncertainty, high_fraction: float, domain: Domain,
                stage: str | None, warnings: list[str]) -> DfsResult:
    cox = model.dfs_radiomic
    cutoff = cox.cutoff.value
    group = "high" if risk > cutoff else "low"
    decided = high_fraction >= 0.975 or high_fraction <= 0.025
    certain = decided and not domain.outside
    if not decided:
        warnings.append(f"RAD-risk group uncertain: {100 * high_fraction:.0f} % of the Monte Carlo draws fall in the "
                        f"high group (cutoff {cutoff:.3f}).")
    n_ratio = n_ci = None
    if stage is not None:
        [term] = model.dfs_clinical.terms
        code = N_STAGES[stage]
        n_ratio = math.exp(term.beta.value * code)
        if code and term.beta.ci95 is not None:
            n_ci = Interval(math.exp(term.beta.ci95[0]), math.exp(term.beta.ci95[1]))
    group_hr = None
    if cox.group_hazard_ratio is not None:
        details = cox.group_hazard_ratio.provenance.details
        group_hr = GroupHazardRatio(cox.group_hazard_ratio.value,
                                    details.get("method") or details.get("reason") or details.get("printed", ""))
    return DfsResult(
        rad_risk_score=risk, rad_risk_uncertainty=uncertainty, cutoff=cutoff, risk_group=group,
        probability_high_group=high_fraction, risk_group_certain=certain, group_hazard_ratio=group_hr,
        n_stage=stage, n_stage_hazard_ratio=n_ratio, n_stage_hazard_ratio_ci95=n_ci,
        combined_model=model.dfs_combined_note, domain=domain,
    )


def _feature_reports(model: Model, z: Mapping[str, float], domains: Iterable[Domain]) -> tuple[FeatureReport, ...]:
    """Each feature's value, reference position (placed once, by the domain verdict) and contributions."""
    alk_terms = {t.variable: t for t in model.alk_radiomic.terms}
    dfs_terms = {t.variable: t for t in model.dfs_radiomic.terms}
    positions = {p.name: p for domain in domains for p in domain.features}
    reports = []
    for name in model.feature_names:
        position = positions[name]
        reports.append(FeatureReport(
            name=name, label=position.label, value=position.value, z=z[name],
            reference_percentile=position.percentile, in_reference_range=position.beyond_range_sd == 0,
            contribution_rad_score=alk_terms[name].beta.value * z[name] if name in alk_terms else None,
            contribution_rad_risk=dfs_terms[name].beta.value * z[name] if name in dfs_terms else None,
        ))
    return tuple(reports)


def _outline_review(case: Case, extent: tuple[np.ndarray, np.ndarray], warnings: list[str]) -> OutlineReview:
    """The outline's review numbers (volume, diameters, ...) and the warnings about the CT."""
    review = review_mask(case.image, case.mask, case.label)
    warnings.extend(review.warnings)
    spacing = case.image.GetSpacing()
    if max(spacing) > THICK_SLICE_MM:
        warnings.append(f"The CT has {max(spacing):.2g} mm slices; the paper used 1.25-1.5 mm reconstructions, and "
                        "texture and wavelet features differ on thick slices.")
    lower, size = extent
    if np.any(lower == 0) or np.any(lower + size >= np.array(case.mask.GetSize())):
        warnings.append("The outline touches the edge of the CT volume; filters see the volume's edge there.")
    return review


def _features_by_outline(case: Case, model: Model, settings: ExtractionSettings, perturb: bool,
                         warnings: list[str]) -> dict[str, dict[str, float]]:
    """Features of the outline as drawn and, with ``perturb``, moved in and out by 1 mm."""
    if not perturb:
        return {"as drawn": compute_features(case.image, case.mask, model.feature_names, label=case.label,
                                             settings=settings)}
    values, skipped = compute_features_of_shifted_outlines(case.image, case.mask, model.feature_names,
                                                           label=case.label, settings=settings)
    for name, reason in skipped.items():
        warnings.append(f"Outline uncertainty leaves out the {name} outline: {reason}")
    return values
