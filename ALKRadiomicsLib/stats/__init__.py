"""The paper's statistics (Methods 2.4-2.5) as plain functions, each usable alone.

ROC: :func:`auc_ci` and :func:`delong_test` (DeLong, DeLong and Clarke-Pearson 1988, in the
fast midrank form of Sun and Xu 2014; written here because no well-kept Python library has
it, and tested against R's pROC). Survival: :func:`harrell_c`, :func:`cox_lrt`,
:func:`logrank_median_split` and :func:`reverse_km_median_followup`, thin, checked wrappers of
lifelines (MIT), tested against R's survival package; :func:`harrell_c_ci` (infinitesimal-jackknife
variance, as ``survival::concordance``). Calibration (:mod:`.calibration`): Brier, both intercept
conventions and the slope, Emax/Eavg, Spiegelhalter's z and Hosmer-Lemeshow, tested against
``rms::val.prob``. Table 1's tests (:mod:`.contingency`): Pearson chi-square without continuity
correction, Fisher's exact, Mann-Whitney U.

Scores are oriented as in the paper: a higher score means more likely ALK-positive (ROC) or a
higher hazard (survival).
"""

from .calibration import validation_statistics
from .roc import auc_ci, delong_test
from .survival import cox_lrt, harrell_c, harrell_c_ci, logrank_median_split, reverse_km_median_followup

__all__ = ["auc_ci", "cox_lrt", "delong_test", "harrell_c", "harrell_c_ci", "logrank_median_split",
           "reverse_km_median_followup", "validation_statistics"]
