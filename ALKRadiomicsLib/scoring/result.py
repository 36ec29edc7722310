"""The typed result of scoring one case, rendered alike by the CLI, JSON, panel and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..segmentation.review import OutlineReview
from .domain import Domain


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
    calibrated: bool  # refitted on local patients (recalibrate / train): not the same as validated
    path: str


@dataclass(frozen=True)
class Component:
    """One source of uncertainty alone: the interval it gives and its share of the variance."""

    interval: Interval
    share: float


@dataclass(frozen=True)
class Uncertainty:
    """A 95 % Monte Carlo interval, what it covers, and each component's part (scoring.uncertainty)."""

    interval: Interval
    components: dict[str, Component]
    covers: str

    def to_dict(self) -> dict[str, Any]:
        return {"interval": self.interval.as_list(), "covers": self.covers,
                "components": {k: {"interval": c.interval.as_list(), "share": c.share}
                               for k, c in self.components.items()}}


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
    prior: float  # the ALK prevalence the displayed probabilities are at
    prior_source: str  # "model" (its intercept_prior) or "user" (--prevalence)
    intercept_prior: float  # the prevalence the model's intercept holds at
    probability: float  # at ``prior``
    probability_uncertainty: Uncertainty
    probability_at_intercept_prior: float
    hla_i_hscore: float | None
    pdl1_hscore: float | None
    combined_logit: float | None
    combined_probability: float | None  # at ``prior``
    combined_probability_uncertainty: Uncertainty | None
    domain: Domain

    @property
    def extrapolated(self) -> bool:
        return self.domain.outside


@dataclass(frozen=True)
class GroupHazardRatio:
    value: float
    method: str  # the model file's provenance: how it was obtained (observed, or simulated)


@dataclass(frozen=True)
class DfsResult:
    """Disease-free-survival risk among ALK-positive patients (Table 3 RAD-risk, N stage)."""

    rad_risk_score: float
    rad_risk_uncertainty: Uncertainty
    cutoff: float
    risk_group: str  # "high" | "low"
    probability_high_group: float  # fraction of the Monte Carlo draws in the high group
    risk_group_certain: bool  # inside the domain and >= 97.5 % of draws in one group
    group_hazard_ratio: GroupHazardRatio | None
    n_stage: str | None  # "N0" | "N1-2"
    n_stage_hazard_ratio: float | None  # vs N0
    n_stage_hazard_ratio_ci95: Interval | None
    combined_model: str  # why no combined DFS model is computed
    domain: Domain

    @property
    def extrapolated(self) -> bool:
        return self.domain.outside


@dataclass(frozen=True)
class CaseResult:
    model: ModelIdentity
    research_use_only: bool
    validation_claim: str | None  # what the model file claims about its validation, said as a claim
    alk: AlkResult
    dfs: DfsResult
    features: dict[str, float]
    feature_reports: tuple[FeatureReport, ...]
    outline: OutlineReview
    warnings: tuple[str, ...]
    software_version: str

    @property
    def outside_domain(self) -> bool:
        return self.alk.domain.outside or self.dfs.domain.outside

    @property
    def domain_headline(self) -> str | None:
        """The sentence a reader must see first when a model is outside its reference population."""
        outside = [f"{what} ({d.short_reason})" for what, d in (("ALK model", self.alk.domain),
                                                                   ("DFS model", self.dfs.domain)) if d.outside]
        if not outside:
            return None
        which = "the model's" if self.model.calibrated else "the bundled model's"
        return (f"Outside {which} reference population: {' and '.join(outside)}. Its numbers below are "
                "extrapolations, not results.")

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
            "research_use_only": self.research_use_only,
            "validation_claim": self.validation_claim,
            "domain_headline": self.domain_headline,
            "alk": {
                "domain": alk.domain.to_dict(),
                "extrapolated": alk.extrapolated,
                "rad_score": alk.rad_score,
                "rad_score_uncertainty": alk.rad_score_uncertainty.to_dict(),
                "probability": alk.probability,
                "probability_uncertainty": alk.probability_uncertainty.to_dict(),
                "prior": alk.prior,
                "prior_source": alk.prior_source,
                "intercept_prior": alk.intercept_prior,
                "probability_at_intercept_prior": alk.probability_at_intercept_prior,
                "hla_i_hscore": alk.hla_i_hscore,
                "pdl1_hscore": alk.pdl1_hscore,
                "combined_probability": alk.combined_probability,
                "combined_probability_uncertainty": (alk.combined_probability_uncertainty.to_dict()
                                                     if alk.combined_probability_uncertainty else None),
            },
            "dfs": {
                "domain": dfs.domain.to_dict(),
                "extrapolated": dfs.extrapolated,
                "rad_risk_score": dfs.rad_risk_score,
                "rad_risk_uncertainty": dfs.rad_risk_uncertainty.to_dict(),
                "cutoff": dfs.cutoff,
                "risk_group": dfs.risk_group,
                "probability_high_group": dfs.probability_high_group,
                "risk_group_certain": dfs.risk_group_certain,
                "group_hazard_ratio": asdict(dfs.group_hazard_ratio) if dfs.group_hazard_ratio else None,
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
