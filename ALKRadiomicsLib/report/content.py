"""What a per-case report says, built once from a CaseResult and rendered as PDF and HTML."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .. import __version__
from ..model.published import CITATION
from ..scoring import CaseResult
from ..scoring.summary import percent

BANNER = "RESEARCH USE ONLY; NOT LOCALLY VALIDATED"
LIDC_ATTRIBUTION = ("Reference population: LIDC-IDRI (Armato SG III et al., Med Phys 38(2):915-931, 2011; "
                    "doi:10.7937/K9/TCIA.2015.LO9QL9SX; CC BY 3.0).")


@dataclass(frozen=True)
class ReportContent:
    title: str
    banner: str | None
    identification: tuple[tuple[str, str], ...]
    outline: tuple[tuple[str, str], ...]
    alk: tuple[tuple[str, str], ...]
    alk_scale: tuple[float, tuple[float, float], str]
    combined_scale: tuple[float, tuple[float, float], str] | None
    dfs: tuple[tuple[str, str], ...]
    feature_header: tuple[str, ...]
    feature_rows: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...]
    provenance: str
    citation: str


def report_content(result: CaseResult, *, case_id: str | None = None,
                   patient: dict[str, str] | None = None, created: datetime.datetime | None = None) -> ReportContent:
    """The report's text. ``patient`` (name, ID, birth date) is shown only when given."""
    created = created or datetime.datetime.now().astimezone()
    model, alk, dfs, outline = result.model, result.alk, result.dfs, result.outline
    identification = [("Case", case_id or "(no case identifier given)")]
    identification += list((patient or {}).items())
    identification += [
        ("Date", created.strftime("%Y-%m-%d %H:%M %Z").strip()),
        ("Software", f"ALKRadiomics {__version__}"),
        ("Model", f"{model.name} {model.version}, "
                  + ("calibrated on local patients" if model.calibrated else "not locally calibrated")),
        ("Model sha256", model.sha256),
    ]
    outline_rows = [
        ("Volume", f"{outline.volume_mm3:.0f} mm3 ({outline.voxel_count} voxels)"),
        ("Longest axial diameter", f"{outline.longest_axial_diameter_mm:.1f} mm"),
        ("Perpendicular diameter", f"{outline.perpendicular_diameter_mm:.1f} mm"),
        ("Connected parts", str(outline.connected_parts)),
        ("Touches pleura / mediastinum", "yes" if outline.touches_pleura else "no"),
        ("HU inside", f"mean {outline.mean_hu:.0f}, range {outline.min_hu:.0f} to {outline.max_hu:.0f}"),
    ]
    prior = ("the study's 1:1 design (50 % prior)" if alk.prior_is_study_design
             else f"an ALK prevalence of {percent(alk.prior)}")
    interval = alk.probability_uncertainty.interval
    alk_rows = [
        ("ALK rearrangement probability", f"{percent(alk.probability)} (95 % interval {percent(interval.low)} to "
                                          f"{percent(interval.high)}), at {prior}"),
        ("Rad-score (Table 2)", f"{alk.rad_score:+.3f} (interval {alk.rad_score_uncertainty.interval.low:+.3f} to "
                                f"{alk.rad_score_uncertainty.interval.high:+.3f})"),
        ("Interval parts", f"coefficients {percent(alk.probability_uncertainty.coefficients.low)} to "
                           f"{percent(alk.probability_uncertainty.coefficients.high)}; outline +/- 1 voxel "
                           f"{percent(alk.probability_uncertainty.outline.low)} to "
                           f"{percent(alk.probability_uncertainty.outline.high)}"),
    ]
    combined_scale = None
    if alk.combined_probability is not None:
        combined = alk.combined_probability_uncertainty.interval
        alk_rows.append(("Combined with HLA-I / PD-L1", f"{percent(alk.combined_probability)} (95 % interval "
                         f"{percent(combined.low)} to {percent(combined.high)}); H-scores {alk.hla_i_hscore:g} / "
                         f"{alk.pdl1_hscore:g}"))
        combined_scale = (alk.combined_probability, (combined.low, combined.high),
                          "Combined model (Rad-score + HLA-I + PD-L1)")
    else:
        alk_rows.append(("Combined with HLA-I / PD-L1", "not computed (no H-scores given)"))
    risk = dfs.rad_risk_uncertainty.interval
    dfs_rows = [
        ("RAD-risk score (Table 3)", f"{dfs.rad_risk_score:+.3f} (interval {risk.low:+.3f} to {risk.high:+.3f})"),
        ("Risk group", f"{dfs.risk_group.upper()} (cutoff {dfs.cutoff:+.3f}, the median of the reference population)"
                       + ("" if dfs.risk_group_certain else "; uncertain: the interval contains the cutoff")),
        ("What the group means", f"In the paper, ALK-positive patients above the median RAD-risk had shorter "
                                 f"disease-free survival (log-rank P = 0.03); hazard ratio high vs low implied by the "
                                 f"model: {dfs.group_hazard_ratio:.2f}"
                                 + (f"; this case vs the cutoff: {dfs.hazard_ratio_vs_cutoff:.3g}"
                                    if result.rad_risk_features_in_range else "")),
    ]
    if dfs.n_stage is not None:
        ci = dfs.n_stage_hazard_ratio_ci95
        dfs_rows.append(("N stage", f"{dfs.n_stage}: HR {dfs.n_stage_hazard_ratio:.2f}"
                         + (f" (95 % CI {ci.low:.2f}-{ci.high:.2f})" if ci else "") + " vs N0"))
    dfs_rows.append(("Combined DFS model", "not published; not computed"))
    feature_rows = tuple(
        (f.label, f"{f.value:.4g}", f"{f.z:+.2f}", f"{f.reference_percentile:.0f}" + ("" if f.in_reference_range
                                                                                     else " (outside range)"),
         f"{f.contribution_rad_score:+.3f}" if f.contribution_rad_score is not None else "",
         f"{f.contribution_rad_risk:+.3f}" if f.contribution_rad_risk is not None else "")
        for f in result.feature_reports
    )
    provenance = (
        "Betas, odds and hazard ratios are the published ones (Tables 2-3, Results 3.2-3.3). Not published, and so "
        "filled in: the feature standardization and the RAD-risk cutoff, derived from a public reference population "
        "of lung nodules rated malignant in LIDC-IDRI (the model file lists them); the intercepts, assumed as the "
        "model file explains. Probabilities and risk groups are relative to that population, not to the paper's "
        "cohort." + ("" if model.calibrated else " " + LIDC_ATTRIBUTION)
    )
    return ReportContent(
        title="CT radiomics of a lung nodule: ALK rearrangement and DFS risk",
        banner=None if model.calibrated else BANNER,
        identification=tuple(identification),
        outline=tuple(outline_rows),
        alk=tuple(alk_rows),
        alk_scale=(alk.probability, (interval.low, interval.high), f"ALK rearrangement probability, at {prior}"),
        combined_scale=combined_scale,
        dfs=tuple(dfs_rows),
        feature_header=("Feature", "Value", "z", "Reference percentile", "Rad-score part", "RAD-risk part"),
        feature_rows=feature_rows,
        warnings=result.warnings,
        provenance=provenance,
        citation=CITATION,
    )
