"""The training report: console summary and a PDF of tables and figures, every estimate labelled.

Page 1: the conclusions, from nested estimates (selection inside the folds), and what each label means.
Page 2: ROC of the nested out-of-fold predictions with DeLong CI band, LASSO cross-validation, Kaplan-Meier of
the nested risk groups with numbers at risk. Page 3: the selected models' coefficients (apparent: fitted on all
patients), Table 1 and the correlations.
"""

from __future__ import annotations

import io

from .alk import DELONG
from .common import SELECTION_FREQUENCY, Coefficient, SelectionFrequency, SelectionSteps
from .estimates import KINDS, Estimate
from .train import Training

PAGE = (8.27, 11.69)  # A4, inches
TEXT_WIDTH = 108  # characters of 7-point monospace across the page


def _p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _estimate(row: Estimate | None, digits: int = 3) -> str:
    if row is None:
        return "n/a"
    interval = f" ({row.ci95[0]:.{digits}f}-{row.ci95[1]:.{digits}f})" if row.ci95 is not None else ""
    return f"{row.value:.{digits}f}{interval}"


def _kinds_row(label: str, row: dict[str, Estimate]) -> str:
    return (f"  {label:<28} {_estimate(row.get('nested')):<23} {_estimate(row.get('cross_validated')):<25} "
            f"{_estimate(row.get('apparent'))}")


def summary_lines(training: Training) -> list[str]:
    """The headline numbers, nested first, each with its label (the PDF's first page and the CLI's output)."""
    alk, dfs, model, optimism = training.alk, training.dfs, training.model, training.optimism
    lines = [f"Cohort {training.cohort}: {training.patients} patients, {training.alk_positive} ALK-positive; "
             f"{training.features_offered} features offered.", "",
             f"ALK Rad-score: {_selection_steps(alk.steps, 'LASSO')}: {', '.join(alk.chosen)}.",
             *_frequency_lines(alk.fold_frequency, optimism and optimism.frequencies.get("rad_score")),
             "AUC (95% DeLong CI)            nested [conclusions]    cross-validated [paper]   apparent"]
    lines += [_kinds_row(name, row) for name, row in alk.auc.items()]
    if optimism is not None and "rad_score_auc" in optimism.estimates:
        lines.append(_optimism_line("Rad-score AUC", optimism.estimates["rad_score_auc"], optimism.resamples))
    lines.append(f"{DELONG}:")
    lines += [f"  {pair}: z {test.statistic:.2f}, P {_p(test.p)} [{test.kind}] ({test.detail})"
              for pair, test in alk.delong.items()]
    lines.append(f"The paper's bootstrap ({PAPER_BOOTSTRAP}):")
    for name, boot in alk.bootstrap.items():
        if boot.mean is None:
            lines.append(f"  {name}: {boot.not_run}")
            continue
        lines.append(f"  {name}: mean AUC {boot.mean:.3f}, SD {boot.sd:.3f} [apparent]; on the patients each "
                     f"resample left out {boot.out_of_bag_mean:.3f} (out of bag, but the features were chosen on all "
                     "patients: still optimistic)")
    lines += ["", f"DFS ({dfs.patients} ALK-positive, {dfs.events} events; median follow-up "
                  f"{dfs.median_followup_months:.1f} months by reverse Kaplan-Meier): "
                  f"{_selection_steps(dfs.steps, 'LASSO Cox')}."]
    if dfs.absent:
        lines.append(f"  {dfs.absent}")
    else:
        lines.append(f"  RAD-risk features: {', '.join(dfs.chosen)} ({dfs.steps.how}).")
        lines += _frequency_lines(dfs.fold_frequency, optimism and optimism.frequencies.get("rad_risk"))
        lines.append("C-index (95% IJ CI)            nested [conclusions]    cross-validated [paper]   apparent")
        for key, label in (("c_index", "RAD-risk"), ("n_stage_c_index", "N stage"),
                           ("combined_c_index", "N stage + RAD-risk")):
            if dfs.estimates.get(key):
                lines.append(_kinds_row(label, dfs.estimates[key]))
        hr = dfs.estimates.get("group_hazard_ratio", {})
        for kind in ("nested", "apparent"):
            test = dfs.comparisons.get("logrank", {}).get(kind)
            if test:
                lines.append(f"  high vs low RAD-risk [{kind}]: HR (95% Wald CI) {_estimate(hr.get(kind), 2)}; "
                             f"log-rank chi2 {test.statistic:.2f}, P {_p(test.p)} ({test.detail})")
        for kind, test in dfs.comparisons.get("combined_vs_n_stage", {}).items():
            lines.append(f"  N stage + RAD-risk vs N stage [{kind}]: chi2 {test.statistic:.2f}, P {_p(test.p)}"
                         f" ({test.detail})")
        boot = dfs.bootstrap
        if boot is not None and boot.mean is not None:
            lines.append(f"  the paper's bootstrap ({PAPER_BOOTSTRAP}): mean C {boot.mean:.3f}, SD {boot.sd:.3f} "
                         "[apparent]")
        if optimism is not None and "rad_risk_c_index" in optimism.estimates:
            lines.append(_optimism_line("RAD-risk C-index", optimism.estimates["rad_risk_c_index"],
                                        optimism.resamples))
    lines += ["", "What the labels mean:"] + [f"  {kind}: {meaning}" for kind, meaning in KINDS.items()]
    lines.append(f"  selection rerun: {SELECTION_FREQUENCY}")
    lines += ["", f"Model file: {model.name} {model.version}, calibrated: {str(model.calibrated).lower()} "
                  f"(fitted on this cohort, so research use only until validated on other patients), "
                  f"intercept prior {model.alk_radiomic.intercept_prior:.3f}, sha256 {model.sha256[:16]}...",
              "Seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in training.seconds_per_stage.items())]
    return lines


#: What the paper's bootstrap is, in the report's words.
PAPER_BOOTSTRAP = "features fixed, each model refitted and measured on each resample"


def _optimism_line(name: str, row, resamples: int) -> str:
    """An optimism-corrected estimate, with a warning below 200 resamples (Harrell's floor for a stable mean)."""
    few = " (fewer than 200 resamples: the correction itself is unstable)" if resamples < 200 else ""
    return (f"  {name} [optimism-corrected, {resamples} resamples]: {row.value:.3f} (apparent {row.apparent:.3f}, "
            f"optimism {row.optimism:.3f}){few}")


def _frequency_lines(*frequencies: SelectionFrequency | None) -> list[str]:
    """How often the reruns chose each feature again: the nested CV's folds, and the bootstrap's resamples if run."""
    return [f"  {f.text()}" for f in frequencies if f]


def _ratio(value: float) -> str:
    """An odds or hazard ratio to three significant digits, trailing zeros kept (3.80, not 3.8)."""
    return f"{value:#.3g}".rstrip(".")


def _selection_steps(steps: SelectionSteps, lasso: str) -> str:
    rule = (steps.lasso or {}).get("rule")
    return (f"{len(steps.screened)} features passed screening, {lasso} kept {len(steps.lasso_selected)} "
            f"(lambda.{rule}), {len(steps.selected)} chosen (at most {steps.variable_limit})")


def coefficient_lines(training: Training) -> list[str]:
    lines = ["Coefficients [apparent: fitted on all patients; their P values ignore the selection]",
             "OR / HR per SD of the feature (per unit of a clinical variable), 95% Wald CI, Wald P", ""]

    def rows(table: dict[str, Coefficient]) -> list[str]:
        return [f"  {name:<45} {row.ratio_name.upper()} {_ratio(row.ratio)} ({_ratio(row.ci95[0])}-"
                f"{_ratio(row.ci95[1])}), P {_p(row.p)}" for name, row in table.items()]

    tables = training.alk.coefficients()
    lines += ["Rad-score (per SD):"] + rows(tables["rad_score"])
    if "clinical" in tables:
        lines += ["Clinicopathological model:"] + rows(tables["clinical"])
    if "combined" in tables:
        lines += ["Combined model:"] + rows(tables["combined"])
    if training.dfs.chosen:
        lines += ["RAD-risk (Cox, per SD):"] + rows(training.dfs.coefficients())
        lines.append(f"  median cutoff {training.dfs.cutoff:.4f}")
    lines += ["", "Table 1: ALK-positive vs ALK-negative", ""]
    for name, row in training.table1.items():
        if "level" in row:
            lines.append(f"  {name} = {row['level']:g}: {row['positive_n']}/{row['positive_total']} vs "
                         f"{row['negative_n']}/{row['negative_total']}; {row['test']} P {_p(row['p'])}")
        else:
            pos, neg = row["positive_median_iqr"], row["negative_median_iqr"]
            lines.append(f"  {name}: median {pos[0]:.3g} (IQR {pos[1]:.3g}-{pos[2]:.3g}) vs {neg[0]:.3g} "
                         f"({neg[1]:.3g}-{neg[2]:.3g}); {row['test']} P {_p(row['p'])}")
    if training.clinical_skipped:
        lines += ["", "  left out: " + "; ".join(f"{k} ({v})" for k, v in training.clinical_skipped.items())]
    lines += ["", "Spearman correlations of the scores (apparent) with clinical variables", ""]
    lines += [f"  {pair}: rho {row['rho']:+.3f}, P {_p(row['p'])} (n {row['n']})"
              for pair, row in training.spearman.items()]
    return lines


def training_pdf(training: Training) -> bytes:
    """Page 1: the numbers; page 2: figures; page 3: coefficients, Table 1 and correlations."""
    from ..report.figures import pyplot
    from .figures import wrap_lines
    from .report_figures import training_figures

    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    title = f"ALKRadiomics training report: {training.cohort}"
    with PdfPages(buffer, metadata={"Title": title, "Creator": "ALKRadiomics"}) as pdf:
        for lines in (summary_lines(training), None, coefficient_lines(training)):
            figure = plt.figure(figsize=PAGE)
            figure.text(0.06, 0.965, title, fontsize=12, weight="bold")
            if lines is None:
                training_figures(figure, training)
            else:
                figure.text(0.06, 0.94, "\n".join(wrap_lines(lines, TEXT_WIDTH)), fontsize=7, family="monospace",
                            va="top")
            pdf.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()

