"""The training report's figures: nested ROC curves, LASSO cross-validation, Kaplan-Meier of nested risk groups."""

from __future__ import annotations

import numpy as np

from .figures import kaplan_meier_groups
from .train import Training


def training_figures(figure, training: Training) -> None:
    from sklearn.metrics import roc_curve

    curves = training.curves
    ax = figure.add_axes([0.08, 0.66, 0.38, 0.26])
    for name, prediction in curves["roc_nested"].items():
        fpr, tpr, _ = roc_curve(curves["alk"], prediction)
        row = training.alk.auc[name]["nested"]
        ax.plot(fpr, tpr, label=f"{name}: {row.value:.3f} ({row.ci95[0]:.3f}-{row.ci95[1]:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title="ROC [nested]: out-of-fold, selection in the folds")
    ax.legend(fontsize=6, loc="lower right", title="AUC (95% DeLong CI)", title_fontsize=6)
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
    nested = curves.get("dfs_nested")
    ax = figure.add_axes([0.14, 0.30, 0.32, 0.26])  # room on the left for the at-risk table's labels
    if nested is not None:
        kaplan_meier_groups(ax, nested["time"], nested["event"], nested["high_risk"], at_risk=True)
        test = training.dfs.comparisons.get("logrank", {}).get("nested")
        ax.set_title("RAD-risk groups [nested]" + (f": log-rank P {test.p:.3g}" if test else ""))
    else:
        ax.text(0.5, 0.5, training.dfs.absent or "no RAD-risk", ha="center", va="center", wrap=True, fontsize=7)
        ax.set_axis_off()
    for ax in figure.axes:
        ax.title.set_fontsize(8)
        ax.xaxis.label.set_fontsize(7)
        ax.yaxis.label.set_fontsize(7)
        ax.tick_params(labelsize=6)
