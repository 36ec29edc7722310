"""Table 1 as the paper computes it (issue 13): Pearson chi-square without continuity correction,
Fisher's exact test where an expected count is small, Mann-Whitney U for skewed variables."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from ALKRadiomicsLib.stats.contingency import FISHER, PEARSON, compare_proportions
from ALKRadiomicsLib.training.tables import table1

#: The paper's Table 1: (ALK-positive, ALK-negative) counts of each level, and the printed P value.
PAPER_TABLE1 = {
    "sex": ([35, 31], [30, 36], 0.38),  # male, female
    "smoking": ([44, 22], [34, 32], 0.08),  # never, ever
    "t_stage": ([48, 18], [48, 18], 1.00),  # T1, T2-4 (printed "> 0.99")
    "n_stage": ([44, 22], [50, 16], 0.25),  # N0, N1-2
    "pathological_stage": ([43, 23], [47, 19], 0.46),  # I, II-IIIA
}


def _as_printed(p: float) -> float:
    """A P value as the paper prints it: SPSS's three decimals, rounded half up to two (0.4548 is shown by SPSS
    as 0.455 and printed 0.46)."""
    return float(Decimal(f"{p:.3f}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _paper_cohort() -> pd.DataFrame:
    """132 patients with the paper's Table 1 counts (level 0 first), 66 ALK-positive."""
    columns = {"alk": np.repeat([1, 0], 66)}
    for name, (positive, negative, _) in PAPER_TABLE1.items():
        columns[name] = np.concatenate([np.repeat([0, 1], positive), np.repeat([0, 1], negative)])
    return pd.DataFrame(columns)


@pytest.mark.parametrize("name", list(PAPER_TABLE1))
def test_table1_p_values_equal_the_papers_to_two_decimals(name):
    positive, negative, printed = PAPER_TABLE1[name]
    result = compare_proportions([positive, negative])
    assert result["test"] == PEARSON
    assert _as_printed(result["p"]) == printed
    assert abs(result["p"] - printed) < 0.006
    # Yates's correction (scipy's default, and what train used before) would not give the paper's numbers.
    yates = scipy_stats.chi2_contingency([positive, negative], correction=True)[1]
    if printed < 1:
        assert abs(yates - printed) > 0.03


def test_table1_of_a_cohort_with_the_papers_counts():
    table = table1(_paper_cohort(), list(PAPER_TABLE1))
    for name, (positive, negative, printed) in PAPER_TABLE1.items():
        row = table[name]
        assert row["test"] == PEARSON and _as_printed(row["p"]) == printed
        assert (row["positive_n"], row["negative_n"]) == (positive[1], negative[1])
        assert row["positive_total"] == row["negative_total"] == 66


def test_small_expected_counts_use_fishers_exact_test_and_say_so():
    counts = [[2, 10], [8, 2]]  # smallest expected count 10 x 10 / 22 = 4.5
    result = compare_proportions(counts)
    assert result["test"] == FISHER and result["expected_min"] < 5
    assert result["p"] == pytest.approx(scipy_stats.fisher_exact(counts)[1], rel=1e-12)
    data = pd.DataFrame({"alk": [1] * 12 + [0] * 10, "smoker": [1] * 2 + [0] * 10 + [1] * 8 + [0] * 2})
    assert table1(data, ["smoker"])["smoker"]["test"] == FISHER


def test_skewed_continuous_variables_use_mann_whitney():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"alk": np.repeat([1, 0], 40), "hla": np.round(np.concatenate(
        [rng.lognormal(3, 1, 40), rng.lognormal(4.5, 1, 40)]))})
    row = table1(data, ["hla"])["hla"]
    expected = scipy_stats.mannwhitneyu(data.hla[data.alk == 1], data.hla[data.alk == 0], alternative="two-sided")
    assert row["test"].startswith("Mann-Whitney") and row["p"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert row["p"] < 0.001 and row["positive_median_iqr"][0] < row["negative_median_iqr"][0]


@pytest.mark.parametrize("counts, message", [([[1, 2, 3]], "2 x k"), ([[1, -2], [3, 4]], "non-negative"),
                                             ([[0, 2], [0, 4]], "every row and column")])
def test_bad_tables_raise_a_precise_value_error(counts, message):
    with pytest.raises(ValueError, match=message):
        compare_proportions(counts)
