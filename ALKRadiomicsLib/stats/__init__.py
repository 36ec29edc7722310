"""The paper's statistics (Methods 2.4-2.5) as plain functions, each usable alone.

ROC: :func:`auc_ci` and :func:`delong_test` (DeLong, DeLong and Clarke-Pearson 1988, in the
fast midrank form of Sun and Xu 2014; written here because no well-kept Python library has
it, and tested against R's pROC). Survival: :func:`harrell_c`, :func:`cox_lrt`,
:func:`logrank_median_split` and :func:`reverse_km_median_followup`, thin, checked wrappers of
lifelines (MIT), tested against R's survival package.

Scores are oriented as in the paper: a higher score means more likely ALK-positive (ROC) or a
higher hazard (survival).
"""

from .roc import auc_ci, delong_test
from .survival import cox_lrt, harrell_c, logrank_median_split, reverse_km_median_followup

__all__ = ["auc_ci", "cox_lrt", "delong_test", "harrell_c", "logrank_median_split", "reverse_km_median_followup"]
