"""How a scored case is said in words: the terminal summary and the phrases every renderer shares."""

from __future__ import annotations

from .result import AlkResult, CaseResult, Uncertainty

BANNER = "RESEARCH USE ONLY; NOT LOCALLY VALIDATED"


def percent(p: float) -> str:
    """A probability as a percentage to one decimal, '>99.9 %' and '<0.1 %' at the ends."""
    if p > 0.999:
        return ">99.9 %"
    if p < 0.001:
        return "<0.1 %"
    return f"{100 * p:.1f} %"


def prior_phrase(alk: AlkResult) -> str:
    """At which ALK prevalence the probabilities are, and where that prevalence comes from."""
    if alk.prior_source == "model":
        design = " (the study's 1:1 design)" if alk.intercept_prior == 0.5 else ""
        return f"at {percent(alk.prior)} ALK prevalence, the prevalence the model's intercept holds at{design}"
    return (f"at an ALK prevalence of {percent(alk.prior)} (converted from the model's intercept prior "
            f"{percent(alk.intercept_prior)})")


def probability_phrase(probability: float, uncertainty: Uncertainty, extrapolated: bool) -> str:
    interval = uncertainty.interval
    text = f"{percent(probability)} (95 % interval {percent(interval.low)} to {percent(interval.high)})"
    return f"EXTRAPOLATION, not a result: {text}" if extrapolated else text


def shares_phrase(uncertainty: Uncertainty) -> str:
    """'coefficients 57 %, outline 39 %, ...': each component's share of the variance, largest first."""
    parts = sorted(uncertainty.components.items(), key=lambda item: -item[1].share)
    return ", ".join(f"{name} {100 * part.share:.0f} %" for name, part in parts if part.share >= 0.005)


def research_use_phrase(result: CaseResult) -> str:
    if not result.research_use_only:
        return f"Validated, as the model file claims ({result.validation_claim}); the gates were checked on loading."
    if result.model.calibrated:
        return (f"{BANNER}: the model was recalibrated or trained on local patients, which is not a validation on "
                "independent patients.")
    return f"{BANNER}: the model carries no validation on independent patients."


def domain_phrase(result: CaseResult) -> str:
    """One line per model: its domain status."""
    return "; ".join(f"{what}: {domain.status}" for what, domain in
                     (("ALK model", result.alk.domain), ("DFS model", result.dfs.domain)))


def risk_group_phrase(result: CaseResult) -> str:
    dfs = result.dfs
    group = f"{dfs.risk_group.upper()} risk group"
    if dfs.extrapolated:
        return f"EXTRAPOLATION, not a result: {group} (the case lies outside the reference population)"
    if not dfs.risk_group_certain:
        return f"{group}, uncertain ({100 * dfs.probability_high_group:.0f} % of draws in the high group)"
    return f"{group} ({100 * dfs.probability_high_group:.0f} % of draws in the high group)"


def summary_text(result: CaseResult, top_features: int = 3) -> str:
    """Verdict first (domain, research use), then probability with interval, risk group, warnings."""
    model, alk, dfs = result.model, result.alk, result.dfs
    lines = []
    if result.domain_headline:
        lines += [f"*** {result.domain_headline} ***", ""]
    if result.research_use_only:
        lines.append(f"*** {BANNER} ***")
    lines += [
        f"Model {model.name} {model.version} (sha256 {model.sha256[:12]}...). {research_use_phrase(result)}",
        f"Model domain: {domain_phrase(result)}.",
        "",
        "ALK rearrangement probability: "
        + probability_phrase(alk.probability, alk.probability_uncertainty, alk.extrapolated) + f", {prior_phrase(alk)}",
        f"  Rad-score {alk.rad_score:+.3f} (interval {alk.rad_score_uncertainty.interval.low:+.3f} to "
        f"{alk.rad_score_uncertainty.interval.high:+.3f}); interval shares: {shares_phrase(alk.rad_score_uncertainty)}",
    ]
    if alk.combined_probability is not None:
        lines.append(f"  Combined with HLA-I {alk.hla_i_hscore:g} and PD-L1 {alk.pdl1_hscore:g}: "
                     + probability_phrase(alk.combined_probability, alk.combined_probability_uncertainty,
                                          alk.extrapolated))
    else:
        lines.append("  Combined model: not computed (give --hla and --pdl1 H-scores)")
    risk = dfs.rad_risk_uncertainty.interval
    lines += [
        "",
        f"DFS risk if ALK-positive: RAD-risk score {dfs.rad_risk_score:+.3f} (interval {risk.low:+.3f} to "
        f"{risk.high:+.3f}; cutoff {dfs.cutoff:+.3f}) -> {risk_group_phrase(result)}",
    ]
    if dfs.group_hazard_ratio is not None:
        lines.append(f"  Hazard ratio high vs low group: {dfs.group_hazard_ratio.value:.2f} "
                     f"({dfs.group_hazard_ratio.method.split(':')[0]})")
    if dfs.n_stage is not None:
        ratio = f"HR {dfs.n_stage_hazard_ratio:.2f}"
        if dfs.n_stage_hazard_ratio_ci95 is not None:
            ratio += f" (95 % CI {dfs.n_stage_hazard_ratio_ci95.low:.2f}-{dfs.n_stage_hazard_ratio_ci95.high:.2f})"
        lines.append(f"  N stage {dfs.n_stage}: {ratio} vs N0")
    lines.append("  Combined DFS model (N stage + RAD-risk): not published, not computed")
    lines += ["", f"Intervals: {alk.rad_score_uncertainty.covers}"]
    drivers = result.largest_rad_score_contributions(top_features)
    lines += ["", "Largest contributions to the Rad-score:"]
    lines += [f"  {f.label:<38} {f.contribution_rad_score:+.3f}  (value {f.value:.4g}, "
              f"reference percentile {f.reference_percentile:.0f})" for f in drivers]
    if result.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in result.warnings]
    return "\n".join(lines)


def summary_html(result: CaseResult, top_features: int = 3) -> str:
    """The Slicer panel's (and web page's) result, verdict first: the same phrases as the reports."""
    from html import escape

    alk, dfs = result.alk, result.dfs
    red = "<b style='color:#b00020'>{}</b>"
    lines = []
    if result.domain_headline:
        lines.append(red.format(escape(result.domain_headline)))
    if result.research_use_only:
        lines.append(red.format(BANNER))
    lines += [
        f"Model domain: {escape(domain_phrase(result))}",
        "ALK probability <b>" + escape(probability_phrase(alk.probability, alk.probability_uncertainty,
                                                          alk.extrapolated)) + f"</b>, {escape(prior_phrase(alk))}",
        f"Rad-score {alk.rad_score:+.2f}",
    ]
    if alk.combined_probability is not None:
        lines.append("Combined with H-scores: <b>" + escape(probability_phrase(
            alk.combined_probability, alk.combined_probability_uncertainty, alk.extrapolated)) + "</b>")
    lines.append(f"RAD-risk {dfs.rad_risk_score:+.2f}: <b>{escape(risk_group_phrase(result))}</b>")
    drivers = result.largest_rad_score_contributions(top_features)
    lines.append("Top contributions: " + ", ".join(f"{escape(f.label)} {f.contribution_rad_score:+.2f}"
                                                   for f in drivers))
    lines.append(f"Intervals: {escape(alk.rad_score_uncertainty.covers)}")
    lines.append(f"Model {escape(result.model.name)} {escape(result.model.version)}. "
                 f"{escape(research_use_phrase(result))}")
    lines += [f"<span style='color:#b00020'>{escape(w)}</span>" for w in result.warnings]
    return "<br>".join(lines)
