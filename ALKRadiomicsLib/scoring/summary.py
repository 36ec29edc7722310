"""A short human-readable summary of a scored case, for the terminal."""

from __future__ import annotations

from .result import CaseResult


def percent(p: float) -> str:
    """A probability as a percentage to one decimal, '>99.9 %' and '<0.1 %' at the ends."""
    if p > 0.999:
        return ">99.9 %"
    if p < 0.001:
        return "<0.1 %"
    return f"{100 * p:.1f} %"


def summary_text(result: CaseResult, top_features: int = 3) -> str:
    """Probability with interval, risk group and calibration status, then every warning."""
    model, alk, dfs = result.model, result.alk, result.dfs
    lines = [f"Model {model.name} {model.version} (sha256 {model.sha256[:12]}...), "
             + ("locally calibrated" if model.calibrated else "NOT locally calibrated")]
    if not model.calibrated:
        lines.append("*** RESEARCH USE ONLY; NOT LOCALLY VALIDATED ***")
    prior = ("the study's 1:1 design (prior 50 %)" if alk.prior_is_study_design
             else f"an ALK prevalence of {percent(alk.prior)}")
    interval = alk.probability_uncertainty.interval
    lines += [
        "",
        f"ALK rearrangement probability: {percent(alk.probability)} "
        f"(95 % interval {percent(interval.low)} to {percent(interval.high)}), at {prior}",
        f"  Rad-score {alk.rad_score:+.3f} (interval {alk.rad_score_uncertainty.interval.low:+.3f} to "
        f"{alk.rad_score_uncertainty.interval.high:+.3f})",
    ]
    if alk.combined_probability is not None:
        combined = alk.combined_probability_uncertainty.interval
        lines.append(f"  Combined with HLA-I {alk.hla_i_hscore:g} and PD-L1 {alk.pdl1_hscore:g}: "
                     f"{percent(alk.combined_probability)} (95 % interval {percent(combined.low)} to "
                     f"{percent(combined.high)})")
    else:
        lines.append("  Combined model: not computed (give --hla and --pdl1 H-scores)")
    risk = dfs.rad_risk_uncertainty.interval
    lines += [
        "",
        f"DFS risk if ALK-positive: RAD-risk score {dfs.rad_risk_score:+.3f} (interval {risk.low:+.3f} to "
        f"{risk.high:+.3f}) -> {dfs.risk_group.upper()} risk group (cutoff {dfs.cutoff:+.3f}"
        + ("" if dfs.risk_group_certain else "; group uncertain") + ")",
        f"  Model-implied hazard ratio, high vs low group: {dfs.group_hazard_ratio:.2f}; this case vs the cutoff: "
        + (f"{dfs.hazard_ratio_vs_cutoff:.3g}" if result.rad_risk_features_in_range
           else "not shown (its features lie outside the reference range)"),
    ]
    if dfs.n_stage is not None:
        ratio = f"HR {dfs.n_stage_hazard_ratio:.2f}"
        if dfs.n_stage_hazard_ratio_ci95 is not None:
            ratio += f" (95 % CI {dfs.n_stage_hazard_ratio_ci95.low:.2f}-{dfs.n_stage_hazard_ratio_ci95.high:.2f})"
        lines.append(f"  N stage {dfs.n_stage}: {ratio} vs N0")
    lines.append("  Combined DFS model (N stage + RAD-risk): not published, not computed")
    drivers = result.largest_rad_score_contributions(top_features)
    lines += ["", "Largest contributions to the Rad-score:"]
    lines += [f"  {f.label:<38} {f.contribution_rad_score:+.3f}  (value {f.value:.4g}, "
              f"reference percentile {f.reference_percentile:.0f})" for f in drivers]
    if result.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in result.warnings]
    return "\n".join(lines)
