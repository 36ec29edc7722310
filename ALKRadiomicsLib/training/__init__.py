"""Training, validating and recalibrating the models on a site's own cohort (paper Methods 2.4-2.5)."""

from .data import cohort_frame
from .evaluation import evaluate, linear_predictors
from .recalibrate import recalibrate, recalibration_problems
from .train import Training, TrainSettings, train

__all__ = ["TrainSettings", "Training", "cohort_frame", "evaluate", "linear_predictors", "recalibrate",
           "recalibration_problems", "train"]
