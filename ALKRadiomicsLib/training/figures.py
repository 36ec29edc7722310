"""The validation report: metrics, ROC curve, calibration plot and Kaplan-Meier curves in one PDF."""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd

from ..model import Model
from ..report.figures import pyplot
from ..scoring.score import logistic
from .evaluation import APPARENT_WHEN_REFITTED, PART_NAMES, Validation, linear_predictors

#: What a recalibrated model's numbers on its own recalibration cohort are (recalibrate's "after").
RECALIBRATED_ON_THESE = ("Recalibrated on these same patients: its intercepts, RAD-risk cutoff and group hazard ratio "
                         "were fitted on them, so every number that depends on the intercepts or the cutoff is "
                         "APPARENT: calibration-in-the-large (0 by construction), both intercepts, the mean predicted "
                         "risk, Brier score, Emax / E90 / Eavg, Spiegelhalter z, Hosmer-Lemeshow (one degree of "
                         "freedom less per refitted intercept), the high-risk count, the log-rank test and hazard "
                         "ratio at the cutoff. AUC, C-index and calibration slope are not: the betas were not "
                         "refitted, so a slope far from 1 stays as it was (recalibration moves the intercepts, not the "
                         "spread of the predictions; the standardization refitted here uses no outcome, yet moves "
                         "them slightly).")


def validation_pdf(title: str, results: dict[str, Validation], models: dict[str, Model], data: pd.DataFrame,
                   notes: dict[str, str] | None = None) -> bytes:
    """One page per model: the numbers (after the page's note, if any), then ROC, calibration and Kaplan-Meier
    figures."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": title, "Creator": "ALKRadiomics"}) as pdf:
        for label, model in models.items():
            result = results[label]
            scores = linear_predictors(model, data)
            figure = plt.figure(figsize=(8.27, 11.69))
            banner = ("RESEARCH USE ONLY: the model file carries no passed validation record (validate --record "
                      "writes one)\n" if model.research_use_only else "")
            figure.text(0.07, 0.968, title if len(models) == 1 else f"{title}: {label}", fontsize=13, weight="bold")
            figure.text(0.07, 0.953, f"{banner}model {model.name} {model.version}\nsha256 {model.sha256[:16]}...",
                        fontsize=8, color="#b00020" if banner else "black", va="top")
            note = (notes or {}).get(label, "")
            lines = [*([note, ""] if note else []), *validation_lines(result)]
            figure.text(0.07, 0.905, "\n".join(wrap_lines(lines, TEXT_COLUMN)), fontsize=7, family="monospace",
                        va="top")
            y = data["alk"].to_numpy(float)
            known = ~np.isnan(y)
            _roc(figure.add_axes([0.58, 0.66, 0.36, 0.21]), y[known], scores["rad_score"].to_numpy()[known])
            _calibration(figure.add_axes([0.58, 0.39, 0.36, 0.20]), y[known], scores["rad_score"].to_numpy()[known])
            if result.dfs_radiomic is not None:
                _kaplan_meier(figure.add_axes([0.58, 0.13, 0.36, 0.19]), data, scores,
                              model.dfs_radiomic.cutoff.value)
            pdf.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()


#: Characters per line of a validation page's text column, which ends where its figures start.
TEXT_COLUMN = 64


def wrap_lines(lines: list[str], width: int) -> list[str]:
    """Report lines folded at ``width`` characters, continuations indented; empty lines kept."""
    return [part for line in lines for part in (textwrap.wrap(line, width, subsequent_indent="    ") or [""])]


def _p(value) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def validation_lines(result: Validation) -> list[str]:
    """A validation result (:func:`evaluate`) as lines of a table: every number named, none as JSON. These
    patients did not fit the model (unless they are its training cohort), so no number here is apparent."""
    alk, cal, prior = result.alk_radiomic, result.alk_radiomic.calibration, result.prior
    large_ci = cal.calibration_in_the_large_ci95
    lines = [*([f"cohort {result.cohort}"] if result.cohort else []),
             f"{result.patients} patients; probabilities "
             + (f"moved to prevalence {prior.prevalence:.3f}" if prior.prevalence is not None
                else f"at the model's prior {prior.rad_score_intercept_prior:.3f}"),
             "intervals: 95%; AUC DeLong; slope, calibration-in-the-large and hazard ratio Wald; C-index "
             "infinitesimal jackknife; ROC band stratified bootstrap", "",
             "Rad-score (ALK)", f"  AUC (95% CI)               {alk.auc:.3f} ({alk.auc_ci95[0]:.3f}-"
             f"{alk.auc_ci95[1]:.3f}), n {alk.n}",
             f"  Brier score                {cal.brier:.3f}",
             f"  calibration slope (95% CI) {cal.slope:.2f} ({cal.slope_ci95[0]:.2f}-{cal.slope_ci95[1]:.2f})",
             f"  intercept with the slope   {cal.intercept_with_slope:+.2f} (val.prob)",
             f"  calibration-in-the-large   {cal.calibration_in_the_large:+.2f} "
             f"({large_ci[0]:+.2f} to {large_ci[1]:+.2f})", "    (the intercept with the slope fixed at 1)",
             f"  Emax / E90 / Eavg          {cal.emax:.3f} / {cal.e90:.3f} / {cal.eavg:.3f}",
             f"  Spiegelhalter z            {cal.spiegelhalter_z:+.2f}, P {_p(cal.spiegelhalter_p)}",
             f"  mean predicted / observed  {cal.mean_predicted:.3f} / {cal.observed:.3f}"]
    hl = cal.hosmer_lemeshow
    if hl.statistic is not None:
        lines.append(f"  Hosmer-Lemeshow            chi2 {hl.statistic:.2f}, {hl.dof} df, P {_p(hl.p)}")
        lines.append(f"    ({len(hl.groups)} groups less {hl.fitted_parameters} parameter"
                     f"{'' if hl.fitted_parameters == 1 else 's'} fitted on these patients)")
        lines.append("    group  n   observed  expected")
        lines += [f"    {k + 1:>5}  {g['n']:<3} {g['observed']:>8.0f}  {g['expected']:>8.1f}"
                  for k, g in enumerate(hl.groups)]
    else:
        lines.append(f"  Hosmer-Lemeshow            not tested: {hl.not_tested}")
    if result.alk_combined is not None:
        combined = result.alk_combined
        delong = combined.delong_vs_radiomic
        lines += ["", "Combined model (Rad-score + H-scores)",
                  f"  AUC (95% CI)               {combined.auc:.3f} ({combined.auc_ci95[0]:.3f}-"
                  f"{combined.auc_ci95[1]:.3f}), n {combined.n}",
                  f"  calibration slope (95% CI) {combined.calibration.slope:.2f} "
                  f"({combined.calibration.slope_ci95[0]:.2f}-{combined.calibration.slope_ci95[1]:.2f})",
                  f"  calibration-in-the-large   {combined.calibration.calibration_in_the_large:+.2f}",
                  f"  Brier score                {combined.calibration.brier:.3f}",
                  "  DeLong vs Rad-score        " + (f"z {delong.z:.2f}, P {_p(delong.p)}" if delong.z is not None
                                                     else f"not tested: {delong.not_tested}")]
    if result.dfs_radiomic is not None:
        dfs = result.dfs_radiomic
        lines += ["", f"RAD-risk (DFS, {dfs.n} ALK-positive, {dfs.events} events)",
                  f"  C-index (95% CI)           {dfs.c_index:.3f} ({dfs.c_index_ci95[0]:.3f}-"
                  f"{dfs.c_index_ci95[1]:.3f})",
                  f"  median follow-up           {dfs.median_followup_months:.1f} months (reverse K-M)",
                  f"  model cutoff               {dfs.cutoff:.4f}: {dfs.high_risk} high risk"]
        if dfs.logrank_at_model_cutoff is not None:
            test = dfs.logrank_at_model_cutoff
            lines += [f"  log-rank at the cutoff     chi2 {test.statistic:.2f}, P {_p(test.p)}",
                      f"  hazard ratio, high vs low  {dfs.group_hazard_ratio:.2f}"
                      + (f" ({dfs.group_hazard_ratio_ci95[0]:.2f}-{dfs.group_hazard_ratio_ci95[1]:.2f})"
                         if dfs.group_hazard_ratio_ci95 else "")]
    for part, why in (result.not_validated or {}).items():
        lines += ["", f"{PART_NAMES[part]}: not validated: {why}"]
    if result.intercepts_fitted_here:
        lines = [f"{line}  [apparent]" if any(line.startswith(f"  {row}") for row in APPARENT_WHEN_REFITTED) else line
                 for line in lines]
    return lines


def roc_band(y, score, resamples: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """95 % band of the sensitivity at each of 101 false-positive rates: percentiles over bootstrap resamples
    drawn within each class (as pROC's ``ci.se`` with stratified resampling). Returns (fpr, low, high)."""
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, 101)
    positive, negative = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    curves = []
    for _ in range(resamples):
        sample = np.r_[rng.choice(positive, len(positive)), rng.choice(negative, len(negative))]
        fpr, tpr, _ = roc_curve(y[sample], score[sample])
        curves.append(np.interp(grid, fpr, tpr))
    low, high = np.percentile(curves, [2.5, 97.5], axis=0)
    return grid, low, high


def _roc(ax, y, score) -> None:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, score)
    if len(np.unique(y)) == 2:
        grid, low, high = roc_band(np.asarray(y), np.asarray(score))
        ax.fill_between(grid, low, high, color="#9ecae1", alpha=0.6, linewidth=0,
                        label="95% band (stratified bootstrap, 200 resamples)")
    ax.plot(fpr, tpr, color="#08306b", label="ROC")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.legend(fontsize=6, loc="lower right")
    ax.set_xlabel("1 - specificity", fontsize=8)
    ax.set_ylabel("sensitivity", fontsize=8)
    ax.set_title("ROC, Rad-score", fontsize=9)


def _calibration(ax, y, log_odds, groups: int = 5) -> None:
    """Grouped observed rates, the lowess smoother of val.prob and a histogram of the predictions."""
    from ..stats.calibration import smoothed_calibration

    order = np.argsort(log_odds)
    parts = np.array_split(order, groups)
    predicted = [np.mean([logistic(v) for v in log_odds[p]]) for p in parts]
    observed = [np.mean(y[p]) for p in parts]
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.plot(predicted, observed, marker="o", linestyle="", color="#08306b", label=f"{groups} groups")
    if len(np.unique(y)) == 2:
        x, smooth = smoothed_calibration(y, log_odds)
        ax.plot(x, smooth, color="#b00020", label="lowess")
    counts, edges = np.histogram([logistic(v) for v in log_odds], bins=20, range=(0, 1))
    ax.bar(edges[:-1], 0.15 * counts / max(counts.max(), 1), width=edges[1] - edges[0], align="edge",
           color="#cccccc", label="predictions")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6, loc="upper left")
    ax.set_xlabel("predicted ALK probability", fontsize=8)
    ax.set_ylabel("observed ALK rate", fontsize=8)
    ax.set_title("Calibration", fontsize=9)


def _kaplan_meier(ax, data: pd.DataFrame, scores: pd.DataFrame, cutoff: float) -> None:
    positive = (data["alk"] == 1) & data["dfs_months"].notna() & data["event"].notna()
    kaplan_meier_groups(ax, data.loc[positive, "dfs_months"].to_numpy(float),
                        data.loc[positive, "event"].to_numpy(float),
                        (scores.loc[positive, "rad_risk"] > cutoff).to_numpy(), at_risk=True)
    ax.set_title("Kaplan-Meier by RAD-risk group", fontsize=9)


def kaplan_meier_groups(ax, time: np.ndarray, event: np.ndarray, high: np.ndarray, at_risk: bool = False) -> None:
    """Kaplan-Meier curves of the high- and low-risk groups (``high`` a boolean per patient); with ``at_risk``,
    the numbers at risk under the axis."""
    from lifelines import KaplanMeierFitter

    fitted = []
    for name, members, colour in (("high risk", high, "#b00020"), ("low risk", ~high, "#08306b")):
        if members.any():
            fitter = KaplanMeierFitter().fit(time[members], event[members], label=f"{name} (n {members.sum()})")
            fitter.plot_survival_function(ax=ax, color=colour, ci_show=False, show_censors=True,
                                          censor_styles={"marker": "|", "ms": 5})
            fitted.append(fitter)
    if at_risk and fitted:
        from lifelines.plotting import add_at_risk_counts

        add_at_risk_counts(*fitted, ax=ax, rows_to_show=["At risk"], fontsize=6)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("months (| censored)", fontsize=8)
    ax.set_ylabel("disease-free survival", fontsize=8)
    ax.legend(fontsize=6)
