"""Validating and recalibrating a model on a site's own cohort (paper Methods 2.4-2.5)."""

from .data import cohort_frame
from .evaluation import evaluate, linear_predictors
from .recalibrate import recalibrate

__all__ = ["cohort_frame", "evaluate", "linear_predictors", "recalibrate"]
