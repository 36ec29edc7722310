"""The validation report: metrics, ROC curve, calibration plot and Kaplan-Meier curves in one PDF."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from ..model import Model
from ..report.figures import pyplot
from ..scoring.score import logistic
from .evaluation import linear_predictors


def validation_pdf(title: str, results: dict[str, dict], models: dict[str, Model], data: pd.DataFrame) -> bytes:
    """One page per model: the numbers, then ROC, calibration and Kaplan-Meier figures."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": title, "Creator": "ALKRadiomics"}) as pdf:
        for label, model in models.items():
            result = results[label]
            scores = linear_predictors(model, data)
            figure = plt.figure(figsize=(8.27, 11.69))
            banner = "RESEARCH USE ONLY; NOT LOCALLY VALIDATED - " if model.research_use_only else ""
            figure.text(0.07, 0.965, f"{title}: {label}", fontsize=13, weight="bold")
            figure.text(0.07, 0.945, f"{banner}model {model.name} {model.version}, sha256 {model.sha256[:16]}...",
                        fontsize=8, color="#b00020" if banner else "black")
            summary = json.dumps({k: v for k, v in result.items() if k != "model"}, indent=1, default=float)
            lines = [line for line in summary.splitlines() if "calibration_table" not in line][:60]
            figure.text(0.07, 0.93, "\n".join(lines), fontsize=6, family="monospace", va="top")
            y = data["alk"].to_numpy(float)
            known = ~np.isnan(y)
            _roc(figure.add_axes([0.55, 0.70, 0.38, 0.22]), y[known], scores["rad_score"].to_numpy()[known])
            _calibration(figure.add_axes([0.55, 0.40, 0.38, 0.22]), y[known], scores["rad_score"].to_numpy()[known])
            if "dfs_radiomic" in result:
                _kaplan_meier(figure.add_axes([0.55, 0.08, 0.38, 0.22]), data, scores,
                              model.dfs_radiomic.cutoff.value)
            pdf.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()


def _roc(ax, y, score) -> None:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, score)
    ax.plot(fpr, tpr, color="#08306b")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set_xlabel("1 - specificity", fontsize=8)
    ax.set_ylabel("sensitivity", fontsize=8)
    ax.set_title("ROC, Rad-score", fontsize=9)


def _calibration(ax, y, log_odds, groups: int = 5) -> None:
    order = np.argsort(log_odds)
    parts = np.array_split(order, groups)
    predicted = [np.mean([logistic(v) for v in log_odds[p]]) for p in parts]
    observed = [np.mean(y[p]) for p in parts]
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.plot(predicted, observed, marker="o", color="#08306b")
    ax.set_xlabel("predicted ALK probability", fontsize=8)
    ax.set_ylabel("observed ALK rate", fontsize=8)
    ax.set_title(f"Calibration ({groups} groups)", fontsize=9)


def _kaplan_meier(ax, data: pd.DataFrame, scores: pd.DataFrame, cutoff: float) -> None:
    positive = (data["alk"] == 1) & data["dfs_months"].notna() & data["event"].notna()
    kaplan_meier_groups(ax, data.loc[positive, "dfs_months"].to_numpy(float),
                        data.loc[positive, "event"].to_numpy(float),
                        (scores.loc[positive, "rad_risk"] > cutoff).to_numpy())
    ax.set_title("Kaplan-Meier by RAD-risk group", fontsize=9)


def kaplan_meier_groups(ax, time: np.ndarray, event: np.ndarray, high: np.ndarray) -> None:
    """Kaplan-Meier curves of the high- and low-risk groups (``high`` a boolean per patient)."""
    from lifelines import KaplanMeierFitter

    for name, members, colour in (("high risk", high, "#b00020"), ("low risk", ~high, "#08306b")):
        if members.any():
            KaplanMeierFitter().fit(time[members], event[members], label=f"{name} (n {members.sum()})") \
                .plot_survival_function(ax=ax, color=colour, ci_show=False)
    ax.set_xlabel("months", fontsize=8)
    ax.set_ylabel("disease-free survival", fontsize=8)
    ax.legend(fontsize=6)
