"""The training report as a PDF: every table of the JSON report, the ROC, LASSO and Kaplan-Meier figures."""

from __future__ import annotations

import io

import numpy as np

from ..report.figures import pyplot
from .figures import kaplan_meier_groups
from .train import Training

PAGE = (8.27, 11.69)  # A4, inches


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def summary_lines(training: Training) -> list[str]:
    """The report's headline numbers as lines of text (the PDF's first page and the CLI's output)."""
    report, model = training.report, training.model
    alk, dfs = report["alk_radiomic"], report["dfs_radiomic"]
    lines = [f"Cohort {report['cohort']}: {report['patients']} patients, {report['alk_positive']} ALK-positive; "
             f"{report['features_offered']} features offered.",
             "",
             f"ALK Rad-score: {_selection_steps(alk, report, 'LASSO', 'forward')}:"]
    lines += [f"  {name}: OR {row['or']:.2f} per SD ({row['or_ci95'][0]:.2f}-{row['or_ci95'][1]:.2f}), "
              f"P {_p(row['p'])}" for name, row in alk["coefficients"].items()]
    lines.append("AUC, five-fold cross-validated (DeLong 95% CI); bootstrap refits (mean, SD, CV):")
    for name, roc in report["roc_cv"].items():
        boot = report["bootstrap_auc"][name]
        lines.append(f"  {name}: {roc['auc']:.3f} ({roc['ci95'][0]:.3f}-{roc['ci95'][1]:.3f}); apparent "
                     f"{roc['apparent_auc']:.3f}; bootstrap {boot['mean']:.3f}, SD {boot['sd']:.3f}, CV "
                     f"{100 * boot['coefficient_of_variation']:.1f}%, out-of-bag {boot['out_of_bag_mean']:.3f}")
    nested = alk["nested_cv"]
    lines.append(f"  radiomic, selection repeated in every fold (honest): {nested['auc']:.3f} "
                 f"({nested['ci95'][0]:.3f}-{nested['ci95'][1]:.3f})")
    lines += [f"DeLong {pair}: z {test['z']:.2f}, P {_p(test['p'])}" for pair, test in report["delong"].items()]
    if "alk_combined" in report:
        lines += [f"  combined {name}: OR {row['or']:.3g} ({row['or_ci95'][0]:.3g}-{row['or_ci95'][1]:.3g}), "
                  f"P {_p(row['p'])}" for name, row in report["alk_combined"]["coefficients"].items()]
    lines += ["",
              f"DFS RAD-risk ({dfs['patients']} ALK-positive, {dfs['events']} events; median follow-up "
              f"{dfs['median_followup_months']:.1f} months by reverse Kaplan-Meier): "
              f"{_selection_steps(dfs, report, 'LASSO Cox', 'backward')}:"]
    lines += [f"  {name}: HR {row['hr']:.2f} per SD ({row['hr_ci95'][0]:.2f}-{row['hr_ci95'][1]:.2f}), "
              f"P {_p(row['p'])}" for name, row in dfs["coefficients"].items()]
    group, boot = dfs["group_hazard_ratio"], dfs["c_index_bootstrap"]
    lines += [f"  median cutoff {dfs['median_cutoff']:.4f}; high vs low HR {group['hr']:.2f} "
              f"({group['hr_ci95'][0]:.2f}-{group['hr_ci95'][1]:.2f}); log-rank chi2 {dfs['logrank']['chi2']:.2f}, "
              f"P {_p(dfs['logrank']['p'])}",
              f"  C-index {dfs['c_index']:.3f}; five-fold CV {dfs['c_index_cv']:.3f}; selection repeated in every "
              f"fold {dfs['nested_cv']['c_index']:.3f}; bootstrap 95% CI {boot['ci95'][0]:.3f}-{boot['ci95'][1]:.3f}"]
    if "dfs_models" in report:
        models = report["dfs_models"]
        lines += [f"  N stage C-index {models['clinicopathological']['c_index']:.3f}; combined (N stage + RAD-risk) "
                  f"{models['combined']['c_index']:.3f}",
                  f"  LRT combined vs N stage: chi2 {models['lrt_combined_vs_clinicopathological']['statistic']:.2f}, "
                  f"P {_p(models['lrt_combined_vs_clinicopathological']['p'])}; combined vs RAD-risk: chi2 "
                  f"{models['lrt_combined_vs_radiomic']['statistic']:.2f}, "
                  f"P {_p(models['lrt_combined_vs_radiomic']['p'])}"]
    lines += ["", f"Model file: {model.name} {model.version}, calibrated: {str(model.calibrated).lower()} "
                  f"(fitted on this cohort, so research use only until validated on other patients), "
                  f"intercept prior {model.alk_radiomic.intercept_prior:.3f}, sha256 {model.sha256[:16]}...",
              "Seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in report["seconds_per_stage"].items())]
    return lines


def _selection_steps(steps: dict, report: dict, lasso: str, direction: str) -> str:
    """What each selection step kept, as one sentence (the same for the ALK and DFS pipelines)."""
    settings = report["settings"]
    return (f"{steps['screened']} features passed screening (P < {settings['screen_p']:g}), {lasso} kept "
            f"{len(steps['lasso_selected'])} (lambda.{steps['lasso_rule']}), {direction} stepwise chose "
            f"{len(steps['selected'])} (at most {steps['variable_limit']}: one per "
            f"{settings['events_per_variable']} events)")


def table_lines(training: Training) -> list[str]:
    report = training.report
    lines = ["Table 1: ALK-positive vs ALK-negative", ""]
    for name, row in report["table1"].items():
        if "level" in row:
            lines.append(f"  {name} = {row['level']:g}: {row['positive_n']}/{row['positive_total']} vs "
                         f"{row['negative_n']}/{row['negative_total']}; {row['test']} P {_p(row['p'])}")
        else:
            pos, neg = row["positive_median_iqr"], row["negative_median_iqr"]
            lines.append(f"  {name}: median {pos[0]:.3g} (IQR {pos[1]:.3g}-{pos[2]:.3g}) vs {neg[0]:.3g} "
                         f"({neg[1]:.3g}-{neg[2]:.3g}); {row['test']} P {_p(row['p'])}")
    lines += ["", "Clinicopathological ALK model: univariate logistic regression", ""]
    lines += [f"  {name}: OR {row['or']:.3g} ({row['or_ci95'][0]:.3g}-{row['or_ci95'][1]:.3g}), P {_p(row['p'])}"
              for name, row in report["alk_clinical"]["univariate"].items()]
    if "multivariate" in report["alk_clinical"]:
        lines += ["", "  multivariate:"]
        lines += [f"  {name}: OR {row['or']:.3g} ({row['or_ci95'][0]:.3g}-{row['or_ci95'][1]:.3g}), P {_p(row['p'])}"
                  for name, row in report["alk_clinical"]["multivariate"].items()]
    if report.get("clinical_skipped"):
        lines += ["", "  left out: " + "; ".join(f"{k} ({v})" for k, v in report["clinical_skipped"].items())]
    lines += ["", "Spearman correlations of the scores with clinical variables", ""]
    lines += [f"  {pair}: rho {row['rho']:+.3f}, P {_p(row['p'])} (n {row['n']})"
              for pair, row in report["spearman"].items()]
    return lines


def training_pdf(training: Training) -> bytes:
    """Page 1: the numbers; page 2: ROC, LASSO and Kaplan-Meier figures; page 3: Table 1 and correlations."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    title = f"ALKRadiomics training report: {training.report['cohort']}"
    with PdfPages(buffer, metadata={"Title": title, "Creator": "ALKRadiomics"}) as pdf:
        for lines in (summary_lines(training), None, table_lines(training)):
            figure = plt.figure(figsize=PAGE)
            figure.text(0.06, 0.965, title, fontsize=12, weight="bold")
            if lines is None:
                _figures(figure, training)
            else:
                figure.text(0.06, 0.94, "\n".join(_wrap(lines)), fontsize=6.5, family="monospace", va="top")
            pdf.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()


def _wrap(lines: list[str], width: int = 118) -> list[str]:
    import textwrap

    return [part for line in lines for part in (textwrap.wrap(line, width, subsequent_indent="    ") or [""])]


def _figures(figure, training: Training) -> None:
    from sklearn.metrics import roc_curve

    curves, report = training.curves, training.report
    ax = figure.add_axes([0.08, 0.66, 0.38, 0.26])
    for name, prediction in curves["roc_cv"].items():
        fpr, tpr, _ = roc_curve(curves["alk"], prediction)
        ax.plot(fpr, tpr, label=f"{name} (AUC {report['roc_cv'][name]['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title="ROC, five-fold cross-validated")
    ax.legend(fontsize=6, loc="lower right")
    for position, key, label in (([0.57, 0.66, 0.38, 0.26], "lasso_alk", "LASSO logistic, 10-fold CV"),
                                 ([0.57, 0.30, 0.38, 0.26], "lasso_dfs", "LASSO Cox, 10-fold CV")):
        path = curves.get(key)
        if not path:
            continue
        ax = figure.add_axes(position)
        log_lambda = np.log(path["lambdas"])
        ax.errorbar(log_lambda, path["cv_deviance"], yerr=path["cv_deviance_se"], fmt="o", markersize=2,
                    color="#b00020", ecolor="#cccccc")
        ax.axvline(np.log(path["lambda_min"]), color="grey", linestyle=":", label="lambda.min")
        ax.axvline(np.log(path["lambda_1se"]), color="grey", linestyle="--", label="lambda.1se")
        ax.legend(fontsize=6, title=f"used: lambda.{path['rule']}", title_fontsize=6)
        ax.set(xlabel="log(lambda)", ylabel="CV deviance", title=f"{label}: {len(path['selected'])} kept")
    _kaplan_meier(figure.add_axes([0.08, 0.30, 0.38, 0.26]), curves["dfs"], report["dfs_radiomic"])
    for ax in figure.axes:
        ax.title.set_fontsize(8)
        ax.xaxis.label.set_fontsize(7)
        ax.yaxis.label.set_fontsize(7)
        ax.tick_params(labelsize=6)


def _kaplan_meier(ax, dfs: dict, result: dict) -> None:
    kaplan_meier_groups(ax, dfs["time"], dfs["event"], dfs["high_risk"])
    ax.set_title(f"RAD-risk groups at the median: log-rank P {_p(result['logrank']['p'])}")
