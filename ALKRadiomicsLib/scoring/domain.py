"""The model's domain: does a case lie inside the reference population its numbers come from?

The bundled standardization and RAD-risk cutoff come from small screening nodules (LIDC, median
13.8 mm); features such as Busyness grow with size, so a resected-size tumour can lie far outside.
Each of the model's features, and the outline's volume (on a log scale, since volumes are
right-skewed), is placed against the reference cases:

- ``inside``: within the reference range widened by INSIDE_MARGIN_SD reference SDs on each side;
- ``edge``: beyond that, but at most OUTSIDE_MARGIN_SD SDs beyond the range;
- ``outside``: more than OUTSIDE_MARGIN_SD SDs beyond the reference range.

A model's verdict is the worst of its features' and the volume's. The margins were chosen on the
bundled reference itself, leave-one-out (each nodule against the other 119): a nodule at the edge
of the range lies up to 0.44 SD beyond the others (so 0.5 keeps false alarms rare: 1 of 120 is not
``inside`` for each model, the one nodule far beyond all the others), while a feature 2 SD beyond
the largest reference value is a case the reference never saw (lung2's Busyness: 66 SD).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import Model, Regression

INSIDE_MARGIN_SD = 0.5
OUTSIDE_MARGIN_SD = 2.0
STATUSES = ("inside", "edge", "outside")
VOLUME = "volume_mm3"


@dataclass(frozen=True)
class Position:
    """Where one quantity lies among the reference cases."""

    name: str
    label: str
    value: float
    z: float  # (value - reference mean) / reference SD (log scale for the volume)
    percentile: float  # mid-rank percentile among the reference cases
    beyond_range_sd: float  # distance beyond the reference min or max, in reference SDs; 0 inside the range
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "value": self.value, "z": self.z,
                "percentile": self.percentile, "beyond_range_sd": self.beyond_range_sd, "status": self.status}

    def describe(self, cases: int) -> str:
        side = "above the largest" if self.z > 0 else "below the smallest"
        if self.name == VOLUME:
            return (f"volume {self.value / 1000:.3g} cm3 lies {self.beyond_range_sd:.1f} SD (log scale) {side} of the "
                    f"{cases} reference cases (percentile {self.percentile:.0f})")
        return (f"{self.label} = {self.value:.4g} lies {self.beyond_range_sd:.1f} SD {side} of the {cases} reference "
                f"cases (z = {self.z:+.1f})")


@dataclass(frozen=True)
class Domain:
    """One model's domain verdict for a case."""

    status: str  # inside | edge | outside
    features: tuple[Position, ...]
    volume: Position | None
    reason: str

    @property
    def outside(self) -> bool:
        return self.status == "outside"

    @property
    def short_reason(self) -> str:
        """The quantities beyond the reference range, briefly: 'Busyness z = +73.6, volume percentile 100'."""
        parts = [f"{p.label.split('.')[-1]} z = {p.z:+.1f}" for p in self.features if p.status != "inside"]
        if self.volume is not None and self.volume.status != "inside":
            size = f"volume {self.volume.value / 1000:.3g} cm3"
            parts.append(f"{size}, {'larger' if self.volume.z > 0 else 'smaller'} than every reference case")
        return ", ".join(parts)


    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "features": [p.to_dict() for p in self.features],
                "volume": self.volume.to_dict() if self.volume else None, "reason": self.reason,
                "rule": RULE}


RULE = (f"inside: every feature and the volume (log scale) within the reference range widened by "
        f"{INSIDE_MARGIN_SD} reference SD; edge: some beyond that, none more than {OUTSIDE_MARGIN_SD} SD beyond the "
        f"range; outside: some more than {OUTSIDE_MARGIN_SD} SD beyond the range")


def position(name: str, label: str, value: float, reference: np.ndarray, mean: float, sd: float) -> Position:
    """Place ``value`` against the reference values (all on the same scale)."""
    beyond = max(reference.min() - value, value - reference.max(), 0.0) / sd
    percentile = 100.0 * (np.sum(reference < value) + 0.5 * np.sum(reference == value)) / len(reference)
    status = "inside" if beyond <= INSIDE_MARGIN_SD else "edge" if beyond <= OUTSIDE_MARGIN_SD else "outside"
    return Position(name, label, float(value), float((value - mean) / sd), float(percentile), float(beyond), status)


def model_domain(model: Model, regression: Regression, features: dict[str, float],
                 volume_mm3: float | None, what: str) -> Domain:
    """The domain verdict of ``regression``'s features (and the volume) for one case."""
    reference = model.reference
    positions = []
    for term in regression.terms:
        standard = model.standardization[term.variable]
        positions.append(position(term.variable, term.label or term.variable, features[term.variable],
                                  np.asarray(reference.feature_values[term.variable]), standard.mean.value,
                                  standard.sd.value))
    volume = None
    if reference.volume_mm3 is not None and volume_mm3 is not None and volume_mm3 > 0:
        logs = np.log(np.asarray(reference.volume_mm3))
        placed = position(VOLUME, "Volume (mm3)", math.log(volume_mm3), logs, float(logs.mean()),
                          float(logs.std(ddof=1)))
        volume = Position(placed.name, placed.label, float(volume_mm3), placed.z, placed.percentile,
                          placed.beyond_range_sd, placed.status)
    everything = positions + ([volume] if volume else [])
    status = max((p.status for p in everything), key=STATUSES.index)
    cases = len(reference.cases)
    if status == "inside":
        reason = (f"Inside the reference population of the {what}: every feature lies within its {cases} cases' range"
                  + (f"; volume at percentile {volume.percentile:.0f}" if volume else "") + ".")
    else:
        worst = sorted((p for p in everything if p.status != "inside"), key=lambda p: -p.beyond_range_sd)
        word = "Outside" if status == "outside" else "At the edge of"
        reason = f"{word} the reference population of the {what}: " + "; ".join(p.describe(cases) for p in worst) + "."
    return Domain(status, tuple(positions), volume, reason)
