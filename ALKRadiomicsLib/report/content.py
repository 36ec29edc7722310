"""What a per-case report says, built once from a CaseResult and rendered as PDF and HTML."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .. import __version__
from ..model.published import CITATION
from ..scoring import CaseResult
from ..scoring.summary import (
    BANNER,
    domain_phrase,
    percent,
    prior_phrase,
    probability_phrase,
    research_use_phrase,
    risk_group_phrase,
    shares_phrase,
)

LIDC_ATTRIBUTION = ("Reference population: LIDC-IDRI (Armato SG III et al., Med Phys 38(2):915-931, 2011; "
                    "doi:10.7937/K9/TCIA.2015.LO9QL9SX; CC BY 3.0).")


@dataclass(frozen=True)
class ReportContent:
    title: str
    banner: str | None
    case_id: str  # printed on every page
    headline: str | None  # outside the model's domain: said first, above every number
    verdict: tuple[tuple[str, str], ...]  # domain, research use, prior, what the intervals cover
    identification: tuple[tuple[str, str], ...]
    outline: tuple[tuple[str, str], ...]
    alk: tuple[tuple[str, str], ...]
    alk_scale: tuple[float, tuple[float, float], str, bool]
    combined_scale: tuple[float, tuple[float, float], str, bool] | None
    dfs: tuple[tuple[str, str], ...]
    feature_header: tuple[str, ...]
    feature_rows: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...]
    provenance: str
    citation: str


SHOWN_CHARACTERS = 64


def shown(text: str) -> str:
    """A value as a page can hold it: one line, at most about ``SHOWN_CHARACTERS`` characters, the middle cut
    out of a longer one with its length said (the JSON keeps it whole)."""
    text = " ".join(str(text).split())
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:40]}...{text[-16:]} ({len(text)} characters; whole in the JSON)"


def report_content(result: CaseResult, *, case_id: str | None = None,
                   patient: dict[str, str] | None = None, created: datetime.datetime | None = None) -> ReportContent:
    """The report's text. ``patient`` (name, ID, birth date) is shown only when given."""
    created = created or datetime.datetime.now().astimezone()
    model, alk, dfs, outline = result.model, result.alk, result.dfs, result.outline
    case = shown(case_id) if case_id else "(no case identifier given)"
    verdict = (
        ("Model domain", f"{domain_phrase(result)} (rule: inside / edge / outside the reference population)"),
        ("Research use", research_use_phrase(result)),
        ("Prior", prior_phrase(alk)),
        ("Intervals cover", alk.rad_score_uncertainty.covers),
    )
    identification = [("Case", case)]
    identification += [(key, shown(value)) for key, value in (patient or {}).items()]
    identification += [
        ("Created", f"{created.strftime('%Y-%m-%d %H:%M %Z').strip()} by ALKRadiomics {__version__}"),
        ("Model", f"{model.name} {model.version} ("
                  + ("recalibrated or trained on local patients" if model.calibrated else "not locally calibrated")
                  + f"), sha256 {model.sha256}"),
    ]
    volume = alk.domain.volume
    outline_rows = [
        ("Volume", f"{outline.volume_mm3:.0f} mm3 ({outline.voxel_count} voxels)"
                   + (f"; reference percentile {volume.percentile:.0f}" if volume else "")),
        ("Longest axial diameter", f"{outline.longest_axial_diameter_mm:.1f} mm"),
        ("Perpendicular diameter", f"{outline.perpendicular_diameter_mm:.1f} mm"),
        ("Connected parts", str(outline.connected_parts)),
        ("Touches pleura / mediastinum", "yes" if outline.touches_pleura else "no"),
        ("HU inside", f"mean {outline.mean_hu:.0f}, range {outline.min_hu:.0f} to {outline.max_hu:.0f}"),
    ]
    rad = alk.rad_score_uncertainty.interval
    alk_rows = [
        ("ALK rearrangement probability", probability_phrase(alk.probability, alk.probability_uncertainty,
                                                             alk.extrapolated) + f", {prior_phrase(alk)}"),
        ("Domain (ALK model)", alk.domain.reason),
        ("Rad-score (Table 2)", f"{alk.rad_score:+.3f} (interval {rad.low:+.3f} to {rad.high:+.3f})"),
        ("Interval shares", shares_phrase(alk.rad_score_uncertainty)),
    ]
    scale_label = f"ALK rearrangement probability at {percent(alk.prior)} prevalence (95 % interval shaded)"
    if alk.extrapolated:
        scale_label = "EXTRAPOLATION, not a result: " + scale_label
    combined_scale = None
    if alk.combined_probability is not None:
        combined = alk.combined_probability_uncertainty.interval
        alk_rows.append(("Combined with HLA-I / PD-L1", probability_phrase(
            alk.combined_probability, alk.combined_probability_uncertainty, alk.extrapolated)
            + f"; H-scores {alk.hla_i_hscore:g} / {alk.pdl1_hscore:g}"))
        combined_scale = (alk.combined_probability, (combined.low, combined.high),
                          ("EXTRAPOLATION: " if alk.extrapolated else "")
                          + "Combined model (Rad-score + HLA-I + PD-L1)",
                          alk.extrapolated)
    else:
        alk_rows.append(("Combined with HLA-I / PD-L1", "not computed (no H-scores given)"))
    risk = dfs.rad_risk_uncertainty.interval
    dfs_rows = [
        ("Risk group", risk_group_phrase(result)),
        ("Domain (DFS model)", dfs.domain.reason),
        ("RAD-risk score (Table 3)", f"{dfs.rad_risk_score:+.3f} (interval {risk.low:+.3f} to {risk.high:+.3f}); "
                                     f"cutoff {dfs.cutoff:+.3f}, the median of the reference population"),
        ("What the group means", "In the paper, ALK-positive patients above the median RAD-risk had shorter "
                                 "disease-free survival (log-rank P = 0.03, 26 events)"
                                 + (f"; hazard ratio high vs low group {dfs.group_hazard_ratio.value:.2f} "
                                    f"({dfs.group_hazard_ratio.method.split(':')[0]}; the model file says how)"
                                    if dfs.group_hazard_ratio else "")),
    ]
    if dfs.n_stage is not None:
        ci = dfs.n_stage_hazard_ratio_ci95
        dfs_rows.append(("N stage", f"{dfs.n_stage}: HR {dfs.n_stage_hazard_ratio:.2f}"
                         + (f" (95 % CI {ci.low:.2f}-{ci.high:.2f})" if ci else "") + " vs N0"))
    dfs_rows.append(("Combined DFS model", "not published; not computed"))
    feature_rows = tuple(
        (f.label, f"{f.value:.4g}", f"{f.z:+.2f}", f"{f.reference_percentile:.0f}" + ("" if f.in_reference_range
                                                                                     else " (out)"),
         f"{f.contribution_rad_score:+.3f}" if f.contribution_rad_score is not None else "",
         f"{f.contribution_rad_risk:+.3f}" if f.contribution_rad_risk is not None else "")
        for f in result.feature_reports
    )
    provenance = (
        "Betas, odds and hazard ratios are the published ones (Tables 2-3, Results 3.2-3.3). Not published, and so "
        "filled in: the feature standardization and the RAD-risk cutoff, derived from a public reference population "
        "of lung nodules rated malignant in LIDC-IDRI (the model file lists them); the intercepts and the H-score "
        "betas, derived from the paper's printed numbers as the model file explains. Probabilities and risk groups "
        "are relative to that population, not to the paper's cohort."
        + ("" if model.calibrated else " " + LIDC_ATTRIBUTION)
    )
    return ReportContent(
        title="CT radiomics of a lung nodule: ALK rearrangement and DFS risk",
        banner=BANNER if result.research_use_only else None,
        case_id=case,
        headline=result.domain_headline,
        verdict=verdict,
        identification=tuple(identification),
        outline=tuple(outline_rows),
        alk=tuple(alk_rows),
        alk_scale=(alk.probability, tuple(alk.probability_uncertainty.interval.as_list()), scale_label,
                   alk.extrapolated),
        combined_scale=combined_scale,
        dfs=tuple(dfs_rows),
        feature_header=("Feature", "Value", "z", "Ref. percentile", "Rad-score part", "RAD-risk part"),
        feature_rows=feature_rows,
        warnings=result.warnings,
        provenance=provenance,
        citation=CITATION,
    )
