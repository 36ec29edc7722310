"""What each number of a training report is: apparent, cross-validated, nested or optimism-corrected.

A reader must never mistake an in-sample number for the model's performance on new patients
(DESIGN section 5). Every AUC, C-index, hazard ratio and test of ``train`` is an :class:`Estimate`
carrying its kind; the report leads with the nested (or optimism-corrected) ones and draws its
conclusions from them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

APPARENT = "apparent"
CROSS_VALIDATED = "cross-validated"
NESTED = "nested"
OPTIMISM_CORRECTED = "optimism-corrected"

#: One sentence per kind: printed in the PDF's legend and the JSON's ``estimate_kinds``.
KINDS = {
    APPARENT: "fitted and measured on the same patients (features chosen on them too): optimistic, never a "
              "conclusion",
    CROSS_VALIDATED: "the paper's five-fold CV: features chosen on all patients, only the coefficients refitted "
                     "in each fold: still optimistic",
    NESTED: "selection and fitting repeated inside each of five outer folds, measured on the held-out fold: what "
            "the pipeline gives a new patient",
    OPTIMISM_CORRECTED: "Harrell's bootstrap: apparent minus the mean optimism of the whole pipeline (selection "
                        "included) refitted on each resample",
}


@dataclass(frozen=True)
class Estimate:
    """A number, its 95 % interval where one exists, what kind of estimate it is and how it was obtained."""

    value: float
    kind: str
    method: str = ""
    ci95: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {self.kind!r}")

    def to_dict(self) -> dict:
        data = {"value": float(self.value), "estimate": self.kind, "method": self.method}
        if self.ci95 is not None:
            data["ci95"] = [float(v) for v in self.ci95]
        return data

    def text(self, digits: int = 3) -> str:
        """``0.812 (0.741-0.883) [nested]``."""
        interval = f" ({self.ci95[0]:.{digits}f}-{self.ci95[1]:.{digits}f})" if self.ci95 is not None else ""
        return f"{self.value:.{digits}f}{interval} [{self.kind}]"


@dataclass(frozen=True)
class Comparison:
    """A test between two models (DeLong, likelihood ratio, log-rank), on which kind of predictions."""

    test: str
    statistic: float
    p: float
    kind: str
    detail: str = ""

    def to_dict(self) -> dict:
        return {"test": self.test, "statistic": float(self.statistic), "p": float(self.p), "estimate": self.kind,
                "detail": self.detail}


def plain(value):
    """Typed results (anything with ``to_dict``) inside dicts, lists and tuples, as JSON values."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


class Result:
    """``to_dict`` for a frozen result dataclass: its fields as JSON values, absent parts (None or "") left out."""

    def to_dict(self) -> dict:
        return {f.name: plain(v) for f in fields(self) if (v := getattr(self, f.name)) is not None and v != ""}


@dataclass(frozen=True)
class PaperBootstrap(Result):
    """The paper's bootstrap: the model on fixed variables refitted and measured on each resample, an apparent
    statistic (mean and SD only: a percentile range of apparent values is not a confidence interval);
    ``out_of_bag_mean`` the mean on the patients each resample left out; ``not_run`` says why none was fitted."""

    resamples: int
    mean: float | None = None
    sd: float | None = None
    out_of_bag_mean: float | None = None
    not_run: str = ""
    estimate: str = APPARENT
    method: str = "variables fixed; refitted and measured on each resample (the paper's)"

    @property
    def coefficient_of_variation(self) -> float | None:
        return None if self.mean is None else self.sd / self.mean

    def to_dict(self) -> dict:
        data = super().to_dict()
        if self.mean is not None and self.out_of_bag_mean is not None:
            data["coefficient_of_variation"] = self.coefficient_of_variation
        return data
