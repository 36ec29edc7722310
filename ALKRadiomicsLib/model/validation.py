"""A model's external validation record, and the gates that lift "research use only" (DESIGN section 5).

Recalibrated is not validated: refitting a model's gaps on local patients says nothing about how
it performs on new ones. Only a record written by ``alk-radiomics validate --record`` on patients
not used to fit the model can lift the research-use banner, and only when its numbers pass the
gates below. The gates are evaluated by this code each time a model is loaded, never read from
the file; the numbers themselves are what the file claims (a checksum detects corruption, not
tampering), and every output says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ModelFormatError

# External validation sample size: at least 100 events and 100 non-events (Collins GS, Ogundimu EO,
# Altman DG. Stat Med 2016;35:214-226); for DFS, half that in events, as recurrences among ALK-positive
# patients are rarer (the paper had 26).
MIN_ALK_POSITIVE = 100
MIN_ALK_NEGATIVE = 100
MIN_DFS_EVENTS = 50
MIN_AUC_CI_LOW = 0.60  # the lower 95 % limit of the AUC
CALIBRATION_SLOPE_RANGE = (0.8, 1.2)
MIN_C_INDEX = 0.60
MAX_LOGRANK_P = 0.05

# What a claimed number may be: AUC, C-index and P lie in [0, 1]; a hazard ratio is positive; the rest is bounded
# so that no arithmetic on it overflows. The model file's numbers and texts share these bounds (schema.py).
MAX_MAGNITUDE = 1e15
UNIT = (0.0, 1.0)
POSITIVE = (1e-300, MAX_MAGNITUDE)
ANY = (-MAX_MAGNITUDE, MAX_MAGNITUDE)
MAX_COUNT = 10**9  # patients
MAX_TEXT_CHARS = 20_000

GATES = (
    f"at least {MIN_ALK_POSITIVE} ALK-positive and {MIN_ALK_NEGATIVE} ALK-negative patients not used to fit the model",
    f"Rad-score AUC whose lower 95 % limit is at least {MIN_AUC_CI_LOW:.2f}",
    f"calibration slope from {CALIBRATION_SLOPE_RANGE[0]} to {CALIBRATION_SLOPE_RANGE[1]} with a 95 % CI containing 1",
    f"at least {MIN_DFS_EVENTS} DFS events among ALK-positive patients",
    f"RAD-risk C-index at least {MIN_C_INDEX:.2f}, and the high group's hazard ratio above 1 with log-rank "
    f"P < {MAX_LOGRANK_P}",
)


@dataclass(frozen=True)
class ValidationRecord:
    """What ``validate --record`` measured on an independent cohort (all apparent on that cohort,
    which is what external validation means: the model was fixed before it saw these patients)."""

    cohort: str
    date: str
    command: str
    alk_positive: int
    alk_negative: int
    auc: float
    auc_ci95: tuple[float, float]
    calibration_slope: float
    calibration_slope_ci95: tuple[float, float]
    dfs_events: int
    c_index: float | None
    group_hazard_ratio: float | None
    logrank_p: float | None

    def failures(self) -> list[str]:
        """The gates this record does not pass (empty when it lifts the research-use banner)."""
        failed = []
        if self.alk_positive < MIN_ALK_POSITIVE or self.alk_negative < MIN_ALK_NEGATIVE:
            failed.append(f"{self.alk_positive} ALK-positive / {self.alk_negative} ALK-negative patients; "
                          f"{MIN_ALK_POSITIVE} / {MIN_ALK_NEGATIVE} needed")
        if self.auc_ci95[0] < MIN_AUC_CI_LOW:
            failed.append(f"AUC lower 95 % limit {self.auc_ci95[0]:.3f} < {MIN_AUC_CI_LOW:.2f}")
        low, high = CALIBRATION_SLOPE_RANGE
        ci = self.calibration_slope_ci95
        if not (low <= self.calibration_slope <= high and ci[0] <= 1.0 <= ci[1]):
            failed.append(f"calibration slope {self.calibration_slope:.2f} (95 % CI {ci[0]:.2f}-{ci[1]:.2f})")
        if self.dfs_events < MIN_DFS_EVENTS:
            failed.append(f"{self.dfs_events} DFS events; {MIN_DFS_EVENTS} needed")
        if self.c_index is None or self.c_index < MIN_C_INDEX:
            failed.append(f"C-index {self.c_index if self.c_index is not None else 'not measured'}")
        if (self.group_hazard_ratio is None or self.logrank_p is None or not self.group_hazard_ratio > 1
                or not self.logrank_p < MAX_LOGRANK_P):
            failed.append("risk groups not separated (hazard ratio > 1 with log-rank P < 0.05 needed)")
        return failed

    @property
    def passes(self) -> bool:
        return not self.failures()

    def summary(self) -> str:
        """One sentence, said as the file's claim."""
        low, high = self.auc_ci95
        return (f"the model file claims a validation on {self.cohort} ({self.date}): {self.alk_positive} "
                f"ALK-positive / {self.alk_negative} ALK-negative, AUC {self.auc:.3f} ({low:.3f}-{high:.3f}), "
                f"calibration slope {self.calibration_slope:.2f}, {self.dfs_events} DFS events"
                + (f", C-index {self.c_index:.3f}" if self.c_index is not None else ""))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["auc_ci95"] = list(self.auc_ci95)
        data["calibration_slope_ci95"] = list(self.calibration_slope_ci95)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> "ValidationRecord":
        if not isinstance(data, dict):
            raise ModelFormatError("model.validation must be a JSON object")
        try:
            record = cls(
                cohort=_text(data, "cohort"), date=_text(data, "date"), command=_text(data, "command"),
                alk_positive=_count(data, "alk_positive"), alk_negative=_count(data, "alk_negative"),
                auc=_finite(data, "auc", UNIT), auc_ci95=_pair(data, "auc_ci95", UNIT),
                calibration_slope=_finite(data, "calibration_slope"),
                calibration_slope_ci95=_pair(data, "calibration_slope_ci95"),
                dfs_events=_count(data, "dfs_events"), c_index=_optional(data, "c_index", UNIT),
                group_hazard_ratio=_optional(data, "group_hazard_ratio", POSITIVE),
                logrank_p=_optional(data, "logrank_p", UNIT),
            )
        except (TypeError, ValueError) as err:
            raise ModelFormatError(f"model.validation: {err}") from None
        if record.dfs_events > record.alk_positive:
            raise ModelFormatError(f"model.validation: dfs_events ({record.dfs_events}) counts recurrences among the "
                                   f"ALK-positive patients, so it cannot exceed alk_positive ({record.alk_positive})")
        return record


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"{key} must be a non-empty string of at most {MAX_TEXT_CHARS:,} characters")
    return value


def _finite(data: dict, key: str, bounds: tuple[float, float] = ANY) -> float:
    return _number(data.get(key), key, bounds)


def _number(value: Any, name: str, bounds: tuple[float, float]) -> float:
    # "low <= value <= high" is false for NaN and exact for an integer too large for a float (no OverflowError);
    # true and false are not numbers although True == 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{name} must be a number from {bounds[0]:g} to {bounds[1]:g}")
    return float(value)


def _optional(data: dict, key: str, bounds: tuple[float, float] = ANY) -> float | None:
    return None if data.get(key) is None else _finite(data, key, bounds)


def _count(data: dict, key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{key} must be a count (a whole number from 0 to {MAX_COUNT:,})")
    return value


def _pair(data: dict, key: str, bounds: tuple[float, float] = ANY) -> tuple[float, float]:
    value = data.get(key)
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{key} must be [low, high]")
    low, high = (_number(v, f"{key}[{i}]", bounds) for i, v in enumerate(value))
    if not low <= high:
        raise ValueError(f"{key} must be [low, high] with low <= high")
    return low, high
