"""What a score says about itself (issue 12): the model's domain, graded, and a Monte Carlo interval
with its coverage stated, on the real reference nodules and real CT."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ALKRadiomicsLib.io import load_case
from ALKRadiomicsLib.model import Standardization, load_bundled_model
from ALKRadiomicsLib.model.schema import Parameter, Provenance, ReferencePopulation
from ALKRadiomicsLib.scoring import score_case
from ALKRadiomicsLib.scoring.uncertainty import COMPONENTS, MonteCarlo


def without_case(model, index: int):
    """The bundled model with one reference nodule left out of its standardization and reference."""
    reference = model.reference
    keep = [i for i in range(len(reference.cases)) if i != index]
    values = {n: tuple(reference.feature_values[n][i] for i in keep) for n in reference.feature_values}
    note = Provenance.assumed("leave-one-out")
    standardization = {n: Standardization(Parameter(float(np.mean(v)), note), Parameter(float(np.std(v, ddof=1)), note))
                       for n, v in values.items()}
    return replace(model, standardization=standardization, reference=ReferencePopulation(
        reference.description, reference.differs_from_paper, tuple(reference.cases[i] for i in keep), values,
        tuple(reference.volume_mm3[i] for i in keep)))


def test_reference_nodules_scored_leave_one_out_lie_inside_the_domain(lidc_nodules):
    """Each of the 120 reference nodules, scored from its CT against a reference without itself: the rule's
    false-alarm rate on the population it describes."""
    model = load_bundled_model()
    statuses = {"alk": [], "dfs": []}
    for index, name in enumerate(model.reference.cases):
        case = load_case(lidc_nodules / "image" / f"{name}.nii.gz", lidc_nodules / "mask" / f"{name}.nii.gz")
        result = score_case(case, model=without_case(model, index), outline_uncertainty=False, draws=100)
        # The features scored are the ones the reference holds for this nodule.
        for feature, value in result.features.items():
            assert value == pytest.approx(model.reference.feature_values[feature][index], rel=1e-12)
        statuses["alk"].append(result.alk.domain.status)
        statuses["dfs"].append(result.dfs.domain.status)
    for key, values in statuses.items():
        inside = values.count("inside") / len(values)
        assert inside >= 0.95, (key, inside)
        assert values.count("outside") <= 2, key


def test_interval_is_wider_than_zero_at_the_reference_centre():
    """A case whose features are the reference means, outline without influence, H-scores 0/0: the
    intercept and coefficient parts still leave an interval (the old envelope was exactly zero here)."""
    model = load_bundled_model()
    centre = {n: model.standardization[n].mean.value for n in model.feature_names}
    monte_carlo = MonteCarlo(model, {"as drawn": centre}, {"hla_i_hscore": 0.0, "pdl1_hscore": 0.0})
    joint = monte_carlo.simulate()
    for draws in (joint.rad_score, joint.combined):
        low, high = np.percentile(draws, [2.5, 97.5])
        assert high - low > 0.5
    intercept_alone = monte_carlo.simulate(frozenset({"intercept"})).rad_score
    assert np.std(intercept_alone) == pytest.approx(0.196, rel=0.05)  # the stated intercept se
    # The rounded H-score betas move the log-odds away from the intercept's centres, not at them.
    assert np.ptp(monte_carlo.simulate(frozenset({"rounding"})).combined) > 0.5
    at_centres = MonteCarlo(model, {"as drawn": centre}, model.alk_combined.intercept_centres)
    assert np.ptp(at_centres.simulate(frozenset({"rounding"})).combined) < 1e-9


def test_interval_is_deterministic_and_its_shares_add_up(load_real_case):
    case = load_real_case("lung1")
    first, second = score_case(case, hla=40, pdl1=60), score_case(case, hla=40, pdl1=60)
    assert first.alk.probability_uncertainty == second.alk.probability_uncertainty
    for uncertainty in (first.alk.rad_score_uncertainty, first.alk.combined_probability_uncertainty,
                        first.dfs.rad_risk_uncertainty):
        assert set(uncertainty.components) == set(COMPONENTS)
        assert sum(c.share for c in uncertainty.components.values()) == pytest.approx(1.0)
        assert uncertainty.interval.low < uncertainty.interval.high
        assert "Not covered" in uncertainty.covers
    assert first.alk.combined_probability_uncertainty.components["rounding"].share > 0
    assert first.dfs.rad_risk_uncertainty.components["reference"].share > 0


def test_outline_part_is_one_millimetre_on_every_ct(load_real_case):
    """The outline moves by one voxel of the 1 mm grid the features are computed on, whatever the CT's slices."""
    from ALKRadiomicsLib.features.signature import compute_features_of_shifted_outlines

    case = load_real_case("lung1")
    model = load_bundled_model()
    values, skipped = compute_features_of_shifted_outlines(case.image, case.mask, model.feature_names,
                                                           label=case.label)
    assert skipped == {} and set(values) == {"as drawn", "eroded", "dilated"}
    assert values["as drawn"] == score_case(case, outline_uncertainty=False).features
    assert values["eroded"] != values["as drawn"] != values["dilated"]


def test_group_certainty_comes_from_the_draws(load_real_case):
    result = score_case(load_real_case("lung1"))
    dfs = result.dfs
    assert 0.0 <= dfs.probability_high_group <= 1.0
    decided = dfs.probability_high_group >= 0.975 or dfs.probability_high_group <= 0.025
    assert dfs.risk_group_certain == (decided and dfs.domain.status != "outside")
    if dfs.risk_group == "high":
        assert dfs.probability_high_group > 0.5
