"""Building the bundled model: the published betas plus standardization and cutoff from LIDC.

``alk-radiomics build-reference --data ../shared/data/lidc_nodules --out MODEL.json`` extracts
the signature's features from every LIDC nodule rated malignant by majority vote whose mask does
not touch the first or last slice of its sub-volume (there a wavelet filter would see the
sub-volume's edge), then derives each feature's mean and SD and the median RAD-risk score. The
same data give the same numbers: the result is a pure function of the files.
"""

from __future__ import annotations

import csv
import datetime
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..errors import ALKRadiomicsError, InputError
from ..features import ExtractionSettings, compute_features
from ..io import load_case
from ..resources import load_parameters
from . import derivations, published
from .schema import Model, Parameter, Provenance, ReferencePopulation, Standardization

logger = logging.getLogger(__name__)

MODEL_NAME = "han-alk-signature"
MODEL_VERSION = "1.0.0"
BUNDLED_MODEL_FILE = "alk_signature_model.json"

POPULATION = (
    "LIDC-IDRI lung nodules (../shared/data/lidc_nodules) rated malignant by the majority of LIDC radiologists "
    "(metadata.csv Diagnosis = Malign), excluding nodules whose mask touches the first or last slice of its CT "
    "sub-volume, where the wavelet filter would see the sub-volume's edge. Data: Armato SG III et al., Medical "
    "Physics 38(2):915-931, 2011; doi:10.7937/K9/TCIA.2015.LO9QL9SX (CC BY 3.0)."
)
DIFFERS_FROM_PAPER = (
    "The paper standardized its features over its own 132 resected lung adenocarcinomas (66 ALK-positive, "
    "66 ALK-negative; Siemens and GE scanners, B70f/lung kernel, 1.25-1.5 mm slices), and did not publish those "
    "means and SDs. The LIDC nodules are a public stand-in: screening and diagnostic CT from several scanners, "
    "kernels and slice thicknesses (0.45-2.5 mm), malignancy rated by radiologists rather than proven, histology "
    "and ALK status unknown, each cropped to a sub-volume around the nodule. Their feature distributions differ "
    "from the paper's cohort, so probabilities and risk groups are relative to this population, not to the "
    "paper's; a site should recalibrate on its own patients before clinical use."
)
NOTES = (
    "Betas of Tables 2 and 3 are taken as per standard deviation of each feature (standardized features), as is "
    "usual for LASSO-selected radiomic signatures; the paper does not state the scaling.",
    "The ORs 0.99 of HLA-I and PD-L1 are rounded as printed: every per-point beta consistent with OR 0.99, "
    "95 % CI 0.98-0.99 and P < 0.001 lies from -0.0151 to -0.0101 (ln 0.99 = -0.01005 just outside); the model "
    "uses the centre, -0.0126, and the uncertainty covers the whole range.",
    "The paper's probability is a probability at the study's 1:1 ALK-positive:ALK-negative design: both ALK "
    "models record intercept_prior 0.5, and a probability at another ALK prevalence converts from it.",
    "Coefficient intervals treat the published 95 % CIs as independent normal errors on the log scale; the "
    "covariances were not published.",
)
GROUP_HR_SEED = 20240611  # fixed: the simulated group hazard ratio is a pure function of the reference data
GROUP_HR_DRAWS = 20000
PAPER_DFS_EVENTS, PAPER_DFS_PATIENTS, PAPER_LOGRANK_P = 26, 63, 0.03


def published_feature_names() -> tuple[str, ...]:
    """The six signature features of Tables 2 and 3, pyradiomics names."""
    return tuple(name for name, *_ in published.TABLE_2 + published.TABLE_3)


def select_reference_cases(data_dir: Path) -> list[str]:
    """Case names of malignant-rated nodules whose mask leaves the sub-volume's end slices free."""
    metadata = data_dir / "metadata.csv"
    if not metadata.is_file():
        raise InputError(f"{metadata} not found; give the lidc_nodules folder (with metadata.csv, image/, mask/).")
    with open(metadata, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("Diagnosis") == "Malign"]
    selected = []
    for row in sorted(rows, key=lambda r: r["case"]):
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(data_dir / "mask" / f"{row['case']}.nii.gz")))
        if not (mask[0].any() or mask[-1].any()):
            selected.append(row["case"])
    return selected


def reference_features(data_dir: Path, names: tuple[str, ...], *, progress: Callable[[int, int], None] | None = None
                       ) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Signature features of every selected reference nodule, and its outline's volume in mm3 (voxels x voxel
    volume, as the outline review counts it), each by case name."""
    cases = select_reference_cases(data_dir)
    settings = ExtractionSettings.from_parameters()
    values: dict[str, dict[str, float]] = {}
    volumes: dict[str, float] = {}
    for done, name in enumerate(cases, start=1):
        try:
            case = load_case(data_dir / "image" / f"{name}.nii.gz", data_dir / "mask" / f"{name}.nii.gz")
            values[name] = compute_features(case.image, case.mask, names, label=case.label, settings=settings)
            voxels = np.count_nonzero(sitk.GetArrayViewFromImage(case.mask) == case.label)
            volumes[name] = float(voxels * np.prod(case.mask.GetSpacing()))
        except ALKRadiomicsError as err:
            logger.warning("reference case %s left out: %s", name, err)
        if progress is not None:
            progress(done, len(cases))
    if len(values) < 10:
        raise InputError(f"Only {len(values)} usable reference nodules in {data_dir}; at least 10 are needed.")
    return values, volumes


def simulated_group_hazard_ratio(risk_scores: np.ndarray, cutoff: float) -> float:
    """The hazard ratio between the high and low RAD-risk groups that the Cox model implies on the
    reference population: RAD-risk scores drawn from the reference nodules, exponential event times
    with hazard proportional to exp(score), censored at the time that leaves the paper's event fraction
    (26 of 63), and a Cox regression of the times on the group. Fixed seed."""
    import statsmodels.api as sm

    rng = np.random.default_rng(GROUP_HR_SEED)
    scores = rng.choice(risk_scores, GROUP_HR_DRAWS)
    times = rng.exponential(np.exp(-(scores - scores.mean())))
    horizon = np.quantile(times, PAPER_DFS_EVENTS / PAPER_DFS_PATIENTS)
    fit = sm.PHReg(np.minimum(times, horizon), (scores > cutoff).astype(float)[:, None],
                   status=(times <= horizon).astype(float)).fit()
    return float(np.exp(fit.params[0]))


def build_model(features: dict[str, dict[str, float]], *, data_description: str, command: str,
                date: str | None = None, volumes: dict[str, float] | None = None) -> Model:
    """The bundled model from reference-population features (see module docstring)."""
    date = date or datetime.date.today().isoformat()
    cases = tuple(sorted(features))
    names = published_feature_names()
    matrix = np.array([[features[c][n] for n in names] for c in cases])

    def derived(method: str) -> Provenance:
        return Provenance.derived(data_description, method, command, date)

    standardization = {}
    for column, name in enumerate(names):
        mean = float(np.mean(matrix[:, column]))
        sd = float(np.std(matrix[:, column], ddof=1))
        standardization[name] = Standardization(
            Parameter(mean, derived(f"arithmetic mean over the {len(cases)} reference nodules")),
            Parameter(sd, derived(f"sample standard deviation (n - 1) over the {len(cases)} reference nodules")),
        )

    # The RAD-risk score of each reference nodule, from the same linear predictor scoring uses.
    table_3 = published.dfs_radiomic()
    scores = np.array([table_3.linear_predictor({n: (features[c][n] - standardization[n].mean.value)
                                                 / standardization[n].sd.value for n in table_3.variables})
                       for c in cases])
    cutoff = float(np.median(scores))
    implied = derivations.logrank_implied_hazard_ratio(PAPER_LOGRANK_P, PAPER_DFS_EVENTS)
    dfs = published.dfs_radiomic(
        Parameter(cutoff, derived(f"median RAD-risk score over the {len(cases)} reference nodules (paper: median "
                                  "of its own cohort, not published)")),
        Parameter(simulated_group_hazard_ratio(scores, cutoff), derived(
            f"simulated, not observed: the marginal hazard ratio of the high vs the low group when the Table 3 Cox "
            f"model holds on the reference nodules ({GROUP_HR_DRAWS} RAD-risk scores drawn from them, exponential "
            f"event times with hazard proportional to exp(score), censored to the paper's {PAPER_DFS_EVENTS} events "
            f"in {PAPER_DFS_PATIENTS} patients, Cox regression on the group; seed {GROUP_HR_SEED}). For comparison, "
            f"the paper's log-rank P = {PAPER_LOGRANK_P} with {PAPER_DFS_EVENTS} events implies about {implied:.1f} "
            "(Schoenfeld)")),
    )
    return Model(
        name=MODEL_NAME, version=MODEL_VERSION, calibrated=False,
        description=("The published CT radiomics signature of ALK-rearranged lung adenocarcinoma (Rad-score, Table 2) "
                     "and of disease-free survival in ALK-positive patients (RAD-risk, Table 3), with the unpublished "
                     "standardization and cutoff derived from public LIDC nodules. Research use only; not locally "
                     "validated."),
        citation=published.CITATION,
        extraction=load_parameters(),
        standardization=standardization,
        reference=ReferencePopulation(
            description=f"{POPULATION} N = {len(cases)}.", differs_from_paper=DIFFERS_FROM_PAPER, cases=cases,
            feature_values={n: tuple(float(features[c][n]) for c in cases) for n in names},
            volume_mm3=tuple(volumes[c] for c in cases) if volumes is not None else None,
        ),
        alk_radiomic=published.alk_radiomic(published.rad_score_intercept()),
        alk_combined=published.alk_combined(),
        dfs_radiomic=dfs,
        dfs_clinical=published.dfs_clinical(),
        dfs_combined_note=published.DFS_COMBINED_NOTE,
        notes=NOTES,
    )
