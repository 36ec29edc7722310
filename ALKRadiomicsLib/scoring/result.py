"""The typed result of scoring one case, rendered alike by the CLI, JSON, panel and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..segmentation.review import OutlineReview


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"interval low {self.low} > high {self.high}")

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def as_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    sha256: str
    calibrated: bool
    path: str


@dataclass(frozen=True)
class Uncertainty:
    """A 95 % interval and its two parts (DESIGN section 5)."""

    interval: Interval  # the envelope of both parts
    coefficients: Interval  # from the published coefficient CIs, at the reviewed outline
    outline: Interval  # point values for the outline eroded / as drawn / dilated by one voxel


@dataclass(frozen=True)
class FeatureReport:
    """One signature feature: value, where it lies in the reference population, what it contributed."""

    name: str
    label: str
    value: float
    z: float
    reference_percentile: float
    in_reference_range: bool
    contribution_rad_score: float | None
    contribution_rad_risk: float | None


@dataclass(frozen=True)
class AlkResult:
    """ALK-rearrangement probability (Table 2 signature and, with H-scores, the combined model)."""

    rad_score: float
    rad_score_uncertainty: Uncertainty
    prior: float
    prior_is_study_design: bool
    probability: float  # at ``prior``
    probability_uncertainty: Uncertainty
    probability_at_study_prior: float
    hla_i_hscore: float | None
    pdl1_hscore: float | None
    combined_logit: float | None
    combined_probability: float | None  # at ``prior``
    combined_probability_uncertainty: Uncertainty | None


@dataclass(frozen=True)
class DfsResult:
    """Disease-free-survival risk among ALK-positive patients (Table 3 RAD-risk, N stage)."""

    rad_risk_score: float
    rad_risk_uncertainty: Uncertainty
    cutoff: float
    risk_group: str  # "high" | "low"
    risk_group_certain: bool
    group_hazard_ratio: float
    hazard_ratio_vs_cutoff: float
    n_stage: str | None  # "N0" | "N1-2"
    n_stage_hazard_ratio: float | None  # vs N0
    n_stage_hazard_ratio_ci95: Interval | None
    combined_model: str  # why no combined DFS model is computed


@dataclass(frozen=True)
class CaseResult:
    model: ModelIdentity
    alk: AlkResult
    dfs: DfsResult
    features: dict[str, float]
    feature_reports: tuple[FeatureReport, ...]
    outline: OutlineReview
    warnings: tuple[str, ...]
    software_version: str

    @property
    def rad_risk_features_in_range(self) -> bool:
        """Whether every RAD-risk feature lies inside the reference range (else its HR extrapolates)."""
        return all(f.in_reference_range for f in self.feature_reports if f.contribution_rad_risk is not None)

    def largest_rad_score_contributions(self, count: int) -> list[FeatureReport]:
        """The ``count`` features that moved the Rad-score most, largest first."""
        return sorted((f for f in self.feature_reports if f.contribution_rad_score is not None),
                      key=lambda f: abs(f.contribution_rad_score), reverse=True)[:count]

    @property
    def contributions(self) -> dict[str, dict[str, float]]:
        return {
            "rad_score": {f.name: f.contribution_rad_score for f in self.feature_reports
                          if f.contribution_rad_score is not None},
            "rad_risk_score": {f.name: f.contribution_rad_risk for f in self.feature_reports
                               if f.contribution_rad_risk is not None},
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (keys documented in README.md)."""
        alk, dfs = self.alk, self.dfs
        return {
            "software": {"name": "ALKRadiomics", "version": self.software_version},
            "model": asdict(self.model),
            "research_use_only": not self.model.calibrated,
            "alk": {
                "rad_score": alk.rad_score,
                "rad_score_interval": alk.rad_score_uncertainty.interval.as_list(),
                "probability": alk.probability,
                "probability_interval": alk.probability_uncertainty.interval.as_list(),
                "probability_uncertainty": _uncertainty(alk.probability_uncertainty),
                "prior": alk.prior,
                "prior_is_study_design": alk.prior_is_study_design,
                "probability_at_study_prior": alk.probability_at_study_prior,
                "hla_i_hscore": alk.hla_i_hscore,
                "pdl1_hscore": alk.pdl1_hscore,
                "combined_probability": alk.combined_probability,
                "combined_probability_interval": (alk.combined_probability_uncertainty.interval.as_list()
                                                  if alk.combined_probability_uncertainty else None),
                "combined_probability_uncertainty": (_uncertainty(alk.combined_probability_uncertainty)
                                                     if alk.combined_probability_uncertainty else None),
            },
            "dfs": {
                "rad_risk_score": dfs.rad_risk_score,
                "rad_risk_interval": dfs.rad_risk_uncertainty.interval.as_list(),
                "rad_risk_uncertainty": _uncertainty(dfs.rad_risk_uncertainty),
                "cutoff": dfs.cutoff,
                "risk_group": dfs.risk_group,
                "risk_group_certain": dfs.risk_group_certain,
                "group_hazard_ratio": dfs.group_hazard_ratio,
                "hazard_ratio_vs_cutoff": dfs.hazard_ratio_vs_cutoff,
                "n_stage": dfs.n_stage,
                "n_stage_hazard_ratio": dfs.n_stage_hazard_ratio,
                "n_stage_hazard_ratio_ci95": dfs.n_stage_hazard_ratio_ci95.as_list() if dfs.n_stage_hazard_ratio_ci95
                else None,
                "combined_model": dfs.combined_model,
            },
            "features": dict(self.features),
            "contributions": self.contributions,
            "reference": {f.name: {"z": f.z, "percentile": f.reference_percentile,
                                   "in_range": f.in_reference_range} for f in self.feature_reports},
            "outline": self.outline.to_dict(),
            "warnings": list(self.warnings),
        }


def _uncertainty(u: Uncertainty) -> dict[str, list[float]]:
    return {"interval": u.interval.as_list(), "coefficients": u.coefficients.as_list(), "outline": u.outline.as_list()}
