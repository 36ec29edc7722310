"""The Monte Carlo uncertainty of a case's scores, with what it covers stated (DESIGN section 5).

Each draw varies five things at once, each from a stated distribution:

- ``coefficients``: every beta with a 95 % CI, normal on the log scale with se = CI width / (2 x 1.96),
  independent (the paper published no covariances);
- ``intercept``: each logistic intercept, normal with the se its 95 % interval gives (the model file
  says how that was chosen); when a beta with an ``intercept_centres`` entry moves, the intercept
  moves with it so that the log-odds at the centre stays;
- ``reference``: the reference population's sampling: a bootstrap of its nodules gives each
  feature's mean and SD and shifts the RAD-risk cutoff by the change of the median RAD-risk score;
- ``rounding``: betas printed only to two decimals (the H-score ORs 0.99), uniform over every value
  consistent with the printed numbers (``feasible_range``);
- ``outline``: the outline as drawn (weight 1/2), or moved inwards or outwards by one voxel of the
  1 mm grid the features are computed on (1/4 each): +-1 mm of surface distance.

The interval is the 2.5th to 97.5th percentile of the joint draws; each component's share is the
variance it causes alone (the others at their point values, same random numbers) over the sum of
those variances. Fixed seed: a case always gets the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..model import Model
from ..model.derivations import Z_95

DRAWS = 4000
BLOCK = 250  # draws computed together
# A resample whose feature SD is below this fraction of the reference's (near-tied values) would turn z-scores
# into infinities: its SD is held there instead.
MIN_BOOTSTRAP_SD_FRACTION = 1e-3
SEED = 20241125
OUTLINE_WEIGHTS = {"eroded": 0.25, "as drawn": 0.5, "dilated": 0.25}
COMPONENTS = ("coefficients", "intercept", "reference", "rounding", "outline")

NOT_COVERED = ("the difference between the reference population and the paper's cohort, scanners and "
               "reconstruction kernels, and any error in the model itself")


def covers(model: Model, draws: int = DRAWS, outline: bool = True) -> str:
    """The sentence every printed interval carries."""
    parts = (f"published coefficient CIs, intercept, reference-population sampling (bootstrap of its "
             f"{len(model.reference.cases)} cases), rounded H-score ORs")
    parts += ", and the outline +-1 mm" if outline else "; not the outline (outline uncertainty was off or impossible)"
    return f"95 % Monte Carlo interval ({draws} draws): {parts}. Not covered: {NOT_COVERED}."


@dataclass(frozen=True)
class Simulation:
    """Draws of each score: ``rad_score``, ``combined`` (log-odds; None without H-scores), ``rad_risk`` and
    the RAD-risk ``cutoff`` of the same draw."""

    rad_score: np.ndarray
    combined: np.ndarray | None
    rad_risk: np.ndarray
    cutoff: np.ndarray


class MonteCarlo:
    """The random inputs of one case's draws; :meth:`simulate` turns on any set of components."""

    def __init__(self, model: Model, outline_features: Mapping[str, Mapping[str, float]],
                 h_scores: Mapping[str, float] | None = None, draws: int = DRAWS, seed: int = SEED):
        self.model, self.draws = model, draws
        self.h_scores = dict(h_scores) if h_scores else None
        rng = np.random.default_rng(seed)
        self.names = model.feature_names
        self.regressions = {"rad_score": model.alk_radiomic, "combined": model.alk_combined,
                            "rad_risk": model.dfs_radiomic}
        self.normal = {key: rng.standard_normal((draws, len(r.terms))) for key, r in self.regressions.items()}
        self.intercept_normal = {key: rng.standard_normal(draws) for key in ("rad_score", "combined")}
        self.uniform = {key: rng.uniform(size=(draws, len(r.terms))) for key, r in self.regressions.items()}
        reference = model.reference.matrix(self.names)
        self.reference = reference
        # Drawn a block of draws at a time (the same numbers as one call): a draws x cases x features sample
        # of a trained model's large reference would take gigabytes at once.
        cases = len(reference)
        self.bootstrap = np.concatenate([rng.integers(0, cases, size=(block.stop - block.start, cases)).astype(np.int32)
                                         for block in self._blocks()])
        self.bootstrap_mean = np.empty((draws, len(self.names)))
        self.bootstrap_sd = np.empty((draws, len(self.names)))
        floor = MIN_BOOTSTRAP_SD_FRACTION * reference.std(axis=0, ddof=1)
        for block in self._blocks():
            sample = reference[self.bootstrap[block]]  # block x cases x features
            self.bootstrap_mean[block] = sample.mean(axis=1)
            self.bootstrap_sd[block] = np.maximum(sample.std(axis=1, ddof=1), floor)
        self.risk_columns = [self.names.index(t.variable) for t in model.dfs_radiomic.terms]
        outlines = [k for k in OUTLINE_WEIGHTS if k in outline_features]
        weights = np.array([OUTLINE_WEIGHTS[k] for k in outlines])
        self.outline_values = np.array([[outline_features[k][n] for n in self.names] for k in outlines])
        self.outline_choice = rng.choice(len(outlines), size=draws, p=weights / weights.sum())
        self.drawn = outlines.index("as drawn")
        self.mean = np.array([model.standardization[n].mean.value for n in self.names])
        self.sd = np.array([model.standardization[n].sd.value for n in self.names])
        # The stored cutoff's own median (point betas and standardization), from which each draw's cutoff moves.
        point_betas = np.array([t.beta.value for t in model.dfs_radiomic.terms])
        columns = self.risk_columns
        self.point_median = float(np.median((reference[:, columns] - self.mean[columns]) / self.sd[columns]
                                            @ point_betas))

    def _blocks(self) -> list[slice]:
        return [slice(start, min(start + BLOCK, self.draws)) for start in range(0, self.draws, BLOCK)]

    def _reference_medians(self, mean: np.ndarray, sd: np.ndarray, betas: np.ndarray, bootstrap: bool) -> np.ndarray:
        """Each draw's median RAD-risk score over the reference (bootstrapped or as stored), block by block."""
        columns = self.risk_columns
        medians = np.empty(self.draws)
        for block in self._blocks():
            source = (self.reference[self.bootstrap[block]][:, :, columns] if bootstrap
                      else self.reference[None, :, columns])
            reference_z = (source - mean[block, None][:, :, columns]) / sd[block, None][:, :, columns]
            medians[block] = np.median(np.einsum("dnk,dk->dn", reference_z, betas[block]), axis=1)
        return medians

    def _betas(self, key: str, active: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        """(draws x terms) betas of one regression, and their point values."""
        regression = self.regressions[key]
        point = np.array([t.beta.value for t in regression.terms])
        betas = np.tile(point, (self.draws, 1))
        for j, term in enumerate(regression.terms):
            if "rounding" in active and term.beta.feasible_range is not None:
                low, high = term.beta.feasible_range
                betas[:, j] = low + (high - low) * self.uniform[key][:, j]
            if "coefficients" in active and term.beta.ci95 is not None:
                betas[:, j] += _se(term.beta.ci95) * self.normal[key][:, j]
        return betas, point

    def _intercept(self, key: str, betas: np.ndarray, point: np.ndarray, active: frozenset[str]) -> np.ndarray:
        regression = self.regressions[key]
        value = np.full(self.draws, regression.intercept.value)
        if "intercept" in active and regression.intercept.ci95 is not None:
            value += _se(regression.intercept.ci95) * self.intercept_normal[key]
        for j, term in enumerate(regression.terms):
            value -= regression.intercept_centres.get(term.variable, 0.0) * (betas[:, j] - point[j])
        return value

    def simulate(self, active: frozenset[str] = frozenset(COMPONENTS)) -> Simulation:
        if "reference" in active:
            mean, sd = self.bootstrap_mean, self.bootstrap_sd
        else:
            mean, sd = np.tile(self.mean, (self.draws, 1)), np.tile(self.sd, (self.draws, 1))
        choice = self.outline_choice if "outline" in active else np.full(self.draws, self.drawn)
        z = (self.outline_values[choice] - mean) / sd  # draws x features

        def linear(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            betas, point = self._betas(key, active)
            columns = [self.names.index(t.variable) for t in self.regressions[key].terms]
            return np.einsum("dk,dk->d", betas, z[:, columns]), betas, point

        rad, betas, point = linear("rad_score")
        rad = rad + self._intercept("rad_score", betas, point, active)
        risk, risk_betas, _ = linear("rad_risk")
        # The cutoff is a median over the reference: it moves with the draw's betas and standardization.
        medians = self._reference_medians(mean, sd, risk_betas, "reference" in active)
        cutoff = self.model.dfs_radiomic.cutoff.value + medians - self.point_median
        combined = None
        if self.h_scores is not None:
            betas_c, point_c = self._betas("combined", active)
            values = {"rad_score": rad, **{k: np.full(self.draws, v) for k, v in self.h_scores.items()}}
            combined = self._intercept("combined", betas_c, point_c, active) + sum(
                betas_c[:, j] * values[t.variable] for j, t in enumerate(self.model.alk_combined.terms))
        return Simulation(rad, combined, risk, cutoff)


def _se(ci95: tuple[float, float]) -> float:
    return (ci95[1] - ci95[0]) / (2 * Z_95)


@dataclass(frozen=True)
class Spread:
    """A score's 95 % interval and each component's interval alone and share of the variance."""

    interval: tuple[float, float]
    components: dict[str, tuple[tuple[float, float], float]]  # name -> (interval alone, share)


def spread(joint: np.ndarray, alone: Mapping[str, np.ndarray]) -> Spread:
    # A component that moves nothing (e.g. rounding without H-scores) has variance 0, not float noise.
    variances = {k: float(np.var(v)) if np.ptp(v) > 1e-12 * (1 + abs(float(np.mean(v)))) else 0.0
                 for k, v in alone.items()}
    total = sum(variances.values())
    return Spread(_percentiles(joint), {k: (_percentiles(v), variances[k] / total if total > 0 else math.nan)
                                        for k, v in alone.items()})


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)
