"""Scoring one case with a model file: ALK probability, Rad-score, RAD-risk group (DESIGN 4-5).

Uncertainty has two parts, both reported:
- coefficients: each published 95 % CI read as a normal error on the log scale (se = width /
  (2 x 1.96)), independent because no covariances were published, propagated to the linear
  predictor at the reviewed outline;
- outline: the features recomputed with the outline eroded and dilated by one voxel
  (6-connected), the point values over the three outlines.
The reported interval is the envelope of the coefficient intervals at all three outlines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from .. import __version__
from ..errors import ALKRadiomicsError, InputError
from ..features import ExtractionSettings, compute_features
from ..features.preprocess import label_bounding_box
from ..features.signature import compute_features_of_outlines
from ..io import Case
from ..model import Model, Regression, load_bundled_model
from ..model.schema import Parameter
from ..segmentation.review import OutlineReview, review_mask
from .result import (
    AlkResult,
    CaseResult,
    DfsResult,
    FeatureReport,
    Interval,
    ModelIdentity,
    Uncertainty,
)

Z_95 = 1.959963984540054  # standard normal 97.5th percentile
STUDY_PRIOR = 0.5  # the paper's 1:1 ALK-positive:ALK-negative design
H_SCORE_RANGE = (0.0, 300.0)
N_STAGES = {"N0": 0, "N1-2": 1, "N1": 1, "N2": 1}
THICK_SLICE_MM = 2.5  # the paper reconstructed at 1.25-1.5 mm

OUTLINES = ("eroded", "as drawn", "dilated")


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


def check_prevalence(value: float | None) -> float:
    if value is None:
        return STUDY_PRIOR
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"Prevalence must be a fraction between 0 and 1 (e.g. 0.05), got {value!r}.") from None
    if not 0.0 < number < 1.0:
        raise InputError(f"Prevalence must be a fraction strictly between 0 and 1 (e.g. 0.05 for 5 %), got {value!r}.")
    return number


def standard_error(parameter: Parameter | None) -> float:
    """se of a coefficient from its 95 % CI (0 when it has none, e.g. an assumed intercept)."""
    if parameter is None or parameter.ci95 is None:
        return 0.0
    return (parameter.ci95[1] - parameter.ci95[0]) / (2 * Z_95)


def coefficient_sd(regression: Regression, values: Mapping[str, float],
                   input_sd: Mapping[str, float] | None = None) -> float:
    """sd of the linear predictor from the coefficients' errors (and, optionally, its inputs')."""
    variance = sum((values[t.variable] * standard_error(t.beta)) ** 2 for t in regression.terms)
    if input_sd:
        variance += sum((t.beta.value * input_sd.get(t.variable, 0.0)) ** 2 for t in regression.terms)
    return math.sqrt(variance)


@dataclass(frozen=True)
class _Predictor:
    """A linear predictor at the three outlines, with its coefficient sd at each."""

    by_outline: dict[str, float]
    sd_by_outline: dict[str, float]

    @property
    def value(self) -> float:
        return self.by_outline["as drawn"]

    def uncertainty(self, transform=lambda x: x) -> Uncertainty:
        at = self.by_outline["as drawn"]
        sd = self.sd_by_outline["as drawn"]
        lows = [v - Z_95 * self.sd_by_outline[k] for k, v in self.by_outline.items()]
        highs = [v + Z_95 * self.sd_by_outline[k] for k, v in self.by_outline.items()]
        points = list(self.by_outline.values())
        return Uncertainty(
            interval=Interval(transform(min(lows)), transform(max(highs))),
            coefficients=Interval(transform(at - Z_95 * sd), transform(at + Z_95 * sd)),
            outline=Interval(transform(min(points)), transform(max(points))),
        )


def score_case(case: Case, *, model: Model | None = None, hla: float | None = None, pdl1: float | None = None,
               n_stage: str | None = None, prevalence: float | None = None,
               outline_uncertainty: bool = True) -> CaseResult:
    """Score a validated case (paper sections 2.4-2.5; DESIGN sections 4-5).

    ``hla`` and ``pdl1`` are H-scores (0-300), both or neither; ``n_stage`` is "N0" or "N1-2";
    ``prevalence`` is the ALK prevalence for the displayed probability (default: the study's 1:1).
    """
    model = load_bundled_model() if model is None else model
    hla = check_h_score(hla, "HLA-I")
    pdl1 = check_h_score(pdl1, "PD-L1")
    if (hla is None) != (pdl1 is None):
        raise InputError("Give both HLA-I and PD-L1 H-scores (--hla and --pdl1): the combined model needs both.")
    stage = check_n_stage(n_stage)
    prior = check_prevalence(prevalence)
    settings = ExtractionSettings.from_parameters(model.extraction)
    warnings: list[str] = []
    if not model.calibrated:
        warnings.append(f"Research use only; not locally validated: model {model.name} {model.version} is not "
                        "calibrated on local patients.")

    # One pass over the (CT-sized) mask for the outline's extent, shared by the steps below.
    extent = label_bounding_box(sitk.GetArrayViewFromImage(case.mask) == case.label)
    by_outline = _features_by_outline(case, extent, model, settings, outline_uncertainty, warnings)
    features = by_outline["as drawn"]
    z_by_outline = {k: model.standardize(v) for k, v in by_outline.items()}

    rad = _predict(model.alk_radiomic, z_by_outline)

    def to_probability(log_odds_at_study_prior: float) -> float:
        # Bayes' rule on the odds: posterior odds = likelihood ratio x prior odds (study prior odds = 1).
        return logistic(log_odds_at_study_prior + logit(prior))

    combined = None
    if hla is not None:
        rad_sd = rad.sd_by_outline
        combined = _Predictor(
            {k: model.alk_combined.linear_predictor({"rad_score": r, "hla_i_hscore": hla, "pdl1_hscore": pdl1})
             for k, r in rad.by_outline.items()},
            {k: coefficient_sd(model.alk_combined, {"rad_score": r, "hla_i_hscore": hla, "pdl1_hscore": pdl1},
                               {"rad_score": rad_sd[k]}) for k, r in rad.by_outline.items()},
        )
        warnings.append("The published HLA-I and PD-L1 odds ratios (0.99 per point) are rounded; the true "
                        "per-point effect may lie from -0.005 to -0.015 on the log-odds scale, so the combined "
                        "probability is less certain than its interval shows.")
    alk = AlkResult(
        rad_score=rad.value,
        rad_score_uncertainty=rad.uncertainty(),
        prior=prior,
        prior_is_study_design=prevalence is None,
        probability=to_probability(rad.value),
        probability_uncertainty=rad.uncertainty(to_probability),
        probability_at_study_prior=logistic(rad.value),
        hla_i_hscore=hla,
        pdl1_hscore=pdl1,
        combined_logit=combined.value if combined else None,
        combined_probability=to_probability(combined.value) if combined else None,
        combined_probability_uncertainty=combined.uncertainty(to_probability) if combined else None,
    )
    dfs = _dfs_result(model, _predict(model.dfs_radiomic, z_by_outline), stage, warnings)
    reports = _feature_reports(model, features, z_by_outline["as drawn"], warnings)
    outline = _outline_review(case, extent, warnings)
    return CaseResult(
        model=ModelIdentity(model.name, model.version, model.sha256, model.calibrated, model.path),
        alk=alk, dfs=dfs, features=features, feature_reports=reports, outline=outline,
        warnings=tuple(warnings), software_version=__version__,
    )


def _predict(regression: Regression, z_by_outline: Mapping[str, Mapping[str, float]]) -> _Predictor:
    return _Predictor({k: regression.linear_predictor(z) for k, z in z_by_outline.items()},
                      {k: coefficient_sd(regression, z) for k, z in z_by_outline.items()})


def _dfs_result(model: Model, risk: _Predictor, stage: str | None, warnings: list[str]) -> DfsResult:
    cox = model.dfs_radiomic
    cutoff = cox.cutoff.value
    uncertainty = risk.uncertainty()
    certain = not uncertainty.interval.contains(cutoff)
    group = "high" if risk.value > cutoff else "low"
    if not certain:
        warnings.append(f"RAD-risk group uncertain: the score's interval [{uncertainty.interval.low:.3f}, "
                        f"{uncertainty.interval.high:.3f}] contains the cutoff {cutoff:.3f}.")
    n_ratio = n_ci = None
    if stage is not None:
        [term] = model.dfs_clinical.terms
        code = N_STAGES[stage]
        n_ratio = math.exp(term.beta.value * code)
        if code and term.beta.ci95 is not None:
            n_ci = Interval(math.exp(term.beta.ci95[0]), math.exp(term.beta.ci95[1]))
    return DfsResult(
        rad_risk_score=risk.value, rad_risk_uncertainty=uncertainty, cutoff=cutoff, risk_group=group,
        risk_group_certain=certain,
        group_hazard_ratio=cox.group_hazard_ratio.value if cox.group_hazard_ratio else float("nan"),
        hazard_ratio_vs_cutoff=math.exp(risk.value - cutoff),
        n_stage=stage, n_stage_hazard_ratio=n_ratio, n_stage_hazard_ratio_ci95=n_ci,
        combined_model=model.dfs_combined_note,
    )


def _feature_reports(model: Model, features: Mapping[str, float], z: Mapping[str, float],
                     warnings: list[str]) -> tuple[FeatureReport, ...]:
    alk_terms = {t.variable: t for t in model.alk_radiomic.terms}
    dfs_terms = {t.variable: t for t in model.dfs_radiomic.terms}
    reports = []
    for name in model.feature_names:
        reference = np.asarray(model.reference.feature_values[name])
        value = features[name]
        percentile = 100.0 * (np.sum(reference < value) + 0.5 * np.sum(reference == value)) / len(reference)
        inside = bool(reference[0] <= value <= reference[-1])
        term = alk_terms.get(name) or dfs_terms.get(name)
        if not inside:
            warnings.append(f"{term.label or name} = {value:.4g} lies outside the reference population's range "
                            f"[{reference[0]:.4g}, {reference[-1]:.4g}] (z = {z[name]:+.1f}); the scores extrapolate.")
        reports.append(FeatureReport(
            name=name, label=term.label if term else name, value=value, z=z[name],
            reference_percentile=float(percentile), in_reference_range=inside,
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


def _features_by_outline(case: Case, extent: tuple[np.ndarray, np.ndarray], model: Model,
                         settings: ExtractionSettings, perturb: bool,
                         warnings: list[str]) -> dict[str, dict[str, float]]:
    """Features of the outline as drawn and, with ``perturb``, eroded and dilated by one voxel."""
    outlines = {"as drawn": (case.mask, case.label)}
    if perturb:
        outlines.update(_perturbed_outlines(case, extent, warnings))
    try:
        values = compute_features_of_outlines(case.image, list(outlines.values()), model.feature_names,
                                              settings=settings)
        return dict(zip(outlines, values, strict=True))
    except ALKRadiomicsError:
        if len(outlines) == 1:
            raise
    # One outline failed: the drawn one must work; a perturbed one is left out with a warning.
    result = {}
    for name, (mask, label) in outlines.items():
        try:
            result[name] = compute_features(case.image, mask, model.feature_names, label=label, settings=settings)
        except ALKRadiomicsError as err:
            if name == "as drawn":
                raise
            warnings.append(f"Outline uncertainty leaves out the {name} outline: {err}")
    return result


def _perturbed_outlines(case: Case, extent: tuple[np.ndarray, np.ndarray],
                        warnings: list[str]) -> dict[str, tuple[sitk.Image, int]]:
    """The outline eroded and dilated by one voxel (6-connected) on the CT grid, as 0/1 masks."""
    lower, size = extent
    start = np.maximum(lower - 2, 0)
    stop = np.minimum(lower + size + 2, np.array(case.mask.GetSize()))
    region = tuple(slice(int(a), int(b)) for a, b in zip(start[::-1], stop[::-1], strict=True))
    crop = sitk.GetArrayViewFromImage(case.mask)[region] == case.label
    cross = ndimage.generate_binary_structure(3, 1)
    outlines = {}
    for name, operation in (("eroded", ndimage.binary_erosion), ("dilated", ndimage.binary_dilation)):
        changed = operation(crop, structure=cross)
        if not changed.any():
            warnings.append(f"The outline is too thin to be {name} by one voxel; outline uncertainty leaves it out.")
            continue
        # A zero image on the CT grid with the changed crop pasted in: no CT-sized numpy copy.
        patch = sitk.GetImageFromArray(changed.astype(np.uint8))
        mask = sitk.Image(case.mask.GetSize(), sitk.sitkUInt8)
        mask.CopyInformation(case.mask)
        mask = sitk.Paste(mask, patch, patch.GetSize(), [0, 0, 0], [int(v) for v in start])
        outlines[name] = (mask, 1)
    return outlines
