"""The model file: JSON with a schema version, every number with its provenance (DESIGN section 5).

A model file is never pickled. :func:`load_model` validates the schema and the recorded content
checksum and returns a frozen :class:`Model`; an invalid file raises
:class:`~ALKRadiomicsLib.errors.ModelFormatError` naming the first problem found.

A model file is input the user did not just write, so it is read as hostile (DESIGN section 7):
every field is type- and range-checked before use, numbers are bounded so that no arithmetic on
them can overflow, and its extraction settings must be the published ones.

Provenance of a number is one of
- ``published``: ``source`` (table or section of the paper) and ``printed`` (the text as printed);
- ``derived``: ``data``, ``method``, ``command`` and ``date`` (how it was computed, from what);
- ``assumed``: ``reason`` (why this value, in words a reviewer can check).
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFormatError
from ..resources import load_parameters
from .validation import MAX_MAGNITUDE, MAX_TEXT_CHARS, ValidationRecord

SCHEMA = "alk-radiomics-model"
MIN_SD, MIN_RELATIVE_SD = 1e-9, 1e-6
SCHEMA_VERSION = 2
CHECKSUM_KEY = "content_sha256"
# What version 2 added, for the message that refuses an older file.
UPGRADE_HINT = (
    "version 2 records the ALK prevalence each intercept holds at (intercept_prior) and the reference population "
    "case by case (for the model's domain and its uncertainty), which an older file cannot supply: rebuild the "
    "bundled model with alk-radiomics build-reference, or rerun alk-radiomics recalibrate / train on the cohort "
    "the file came from"
)

# Bounds on what a file may hold (MAX_MAGNITUDE, 1e15, and MAX_TEXT_CHARS come from validation.py, which
# checks the validation record by the same bounds). The bundled file is 35 kB, its largest number 2e4 and its
# longest text 934 characters; the bounds leave room for any real model and keep all arithmetic on its numbers
# finite: with |x|, |mean| <= MAX_MAGNITUDE and sd >= MIN_SD a z-score stays below 1e25, beta * z below 1e27
# and its square (a variance) far below the float limit; exp() of MAX_COEFFICIENT is 3e43, not an overflow.
MAX_MODEL_BYTES = 64 * 2**20
MAX_INTEGER_DIGITS = 16  # longer integer literals overflow float() (10^400) or int() itself (4300 digits)
MAX_COEFFICIENT = 100.0  # a log-odds or log-hazard ratio per SD: e^100 is no fit of real data
MIN_REFERENCE_CASES = 10  # fewer cannot give a mean, an SD, a median cutoff or a bootstrap
# The uncertainty's bootstrap keeps 4000 draws of case indices (4 bytes each) and passes over every reference
# value once per draw and component, a block of draws at a time: 10,000 cases x 6 features took 9.5 s and
# 0.7 GB per score (lung2); these bounds keep a score under about 20 s and 1.5 GB. A site's cohort of
# 2,500 patients x 8 features (a trained model's reference) fits.
MAX_REFERENCE_CASES = 20_000
MAX_REFERENCE_VALUES = 100_000
MAX_TERMS = 50  # per regression; the paper's have 4 and 2
MAX_DEGENERATE_BOOTSTRAP = 1e-9  # chance that one bootstrap sample of a reference feature holds a single value
# A feature or variable name: pyradiomics writes wavelet-LLH_glszm_SmallAreaEmphasis; a trained model takes its
# cohort's column names, so any printable text of at most 200 characters (no line breaks: one-line messages).
NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]{1,200}")
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")  # written as path.name in messages, others as path["x"]

_PROVENANCE_FIELDS = {
    "published": ("source", "printed"),
    "derived": ("data", "method", "command", "date"),
    "assumed": ("reason",),
}


@dataclass(frozen=True)
class Provenance:
    """Where a number comes from."""

    kind: str
    details: dict[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in _PROVENANCE_FIELDS:
            raise ModelFormatError(f"provenance type must be one of {sorted(_PROVENANCE_FIELDS)}, "
                                   f"got {_shown(self.kind)}")
        for key in _PROVENANCE_FIELDS[self.kind]:
            if not isinstance(self.details.get(key), str) or not self.details[key].strip():
                raise ModelFormatError(f"{self.kind} provenance needs a non-empty {key!r}")
        unknown = [key for key in self.details if key not in _PROVENANCE_FIELDS[self.kind]]
        if unknown:
            raise ModelFormatError(f"{self.kind} provenance holds only {', '.join(_PROVENANCE_FIELDS[self.kind])}, "
                                   f"not {_shown(unknown)}")

    @classmethod
    def published(cls, source: str, printed: str) -> "Provenance":
        return cls("published", {"source": source, "printed": printed})

    @classmethod
    def derived(cls, data: str, method: str, command: str, date: str) -> "Provenance":
        return cls("derived", {"data": data, "method": method, "command": command, "date": date})

    @classmethod
    def assumed(cls, reason: str) -> "Provenance":
        return cls("assumed", {"reason": reason})

    def to_dict(self) -> dict[str, str]:
        return {"type": self.kind, **self.details}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "Provenance":
        data = _mapping(data, where)
        details = {key: _text(value, _at(where, key)) for key, value in data.items() if key != "type"}
        try:
            return cls(data.get("type"), details)
        except ModelFormatError as err:
            raise ModelFormatError(f"{where}: {err}") from None


@dataclass(frozen=True)
class Parameter:
    """A number, its 95 % confidence interval when one is known, and its provenance."""

    value: float
    provenance: Provenance
    ci95: tuple[float, float] | None = None
    # Every value consistent with a rounded printed number (e.g. OR 0.99): drawn uniformly by the uncertainty.
    feasible_range: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value}
        if self.ci95 is not None:
            data["ci95"] = list(self.ci95)
        if self.feasible_range is not None:
            data["feasible_range"] = list(self.feasible_range)
        data["provenance"] = self.provenance.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str, bound: float = MAX_MAGNITUDE) -> "Parameter":
        """``bound``: the largest magnitude the value and its intervals may have."""
        data = _mapping(data, where)
        value = _number(data.get("value"), f"{where}.value", bound)
        intervals = {}
        for name in ("ci95", "feasible_range"):
            if data.get(name) is not None:
                low, high = _pair(data[name], f"{where}.{name}", bound)
                if not low <= value <= high:
                    raise ModelFormatError(f"{where}: value {value} lies outside its {name} {[low, high]}")
                intervals[name] = (low, high)
        return cls(value, Provenance.from_dict(data.get("provenance"), f"{where}.provenance"), **intervals)


@dataclass(frozen=True)
class Term:
    """One covariate of a regression: a feature (pyradiomics name) or a clinical variable."""

    variable: str
    beta: Parameter
    label: str = ""  # the paper's name or a readable one
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"variable": self.variable, "label": self.label, "unit": self.unit, "beta": self.beta.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "Term":
        data = _mapping(data, where)
        return cls(_name(data.get("variable"), f"{where}.variable"),
                   Parameter.from_dict(data.get("beta"), f"{where}.beta", bound=MAX_COEFFICIENT),
                   _text(data.get("label", ""), f"{where}.label", empty=True),
                   _text(data.get("unit", ""), f"{where}.unit", empty=True))


@dataclass(frozen=True)
class Regression:
    """A logistic model (log-odds) or a Cox model (log-hazard ratio) as a linear predictor."""

    kind: str  # "logistic" | "cox"
    terms: tuple[Term, ...]
    intercept: Parameter | None = None  # logistic only; Cox has no intercept
    # Logistic: the ALK prevalence at which the intercept holds (0.5 for the paper's 1:1 design; a cohort's own
    # prevalence after recalibrate or train). Probabilities at another prevalence convert from it.
    intercept_prior: float | None = None
    # Logistic: covariate values at which the intercept keeps the log-odds fixed when a beta is varied (by the
    # uncertainty): intercept moves by -(change in beta) x centre. Absent means 0 (centred covariates). With
    # centres, the intercept's ci95 is the 95 % interval of the log-odds at the centres (which is what varies
    # independently of the betas), shifted to the intercept.
    intercept_centres: dict[str, float] = field(default_factory=dict)
    cutoff: Parameter | None = None  # Cox: the linear predictor that splits high from low risk
    group_hazard_ratio: Parameter | None = None  # Cox: hazard ratio of the high vs the low group
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in ("logistic", "cox"):
            raise ModelFormatError(f"regression kind must be 'logistic' or 'cox', got {_shown(self.kind)}")
        if not self.terms:
            raise ModelFormatError("a regression needs at least one term")
        if len(self.terms) > MAX_TERMS:
            raise ModelFormatError(f"a regression has at most {MAX_TERMS} terms, this one {len(self.terms)}")
        repeated = sorted(v for v, count in collections.Counter(self.variables).items() if count > 1)
        if repeated:
            raise ModelFormatError(f"the terms name {repeated} more than once")
        if self.kind == "logistic":
            self._check_logistic()
        else:
            self._check_cox()
        unknown = set(self.intercept_centres) - set(self.variables)
        if unknown:
            raise ModelFormatError(f"intercept_centres names variables the model does not have: {sorted(unknown)}")

    def _check_logistic(self) -> None:
        if self.intercept is None:
            raise ModelFormatError("a logistic regression needs an intercept")
        if self.intercept_prior is None or not 0.0 < self.intercept_prior < 1.0:
            raise ModelFormatError("a logistic regression needs intercept_prior, the ALK prevalence (strictly "
                                   "between 0 and 1) at which its intercept holds")
        extra = [name for name in ("cutoff", "group_hazard_ratio") if getattr(self, name) is not None]
        if extra:
            raise ModelFormatError(f"a logistic regression has no {' or '.join(extra)} (those belong to a Cox model)")

    def _check_cox(self) -> None:
        # A Cox model's baseline hazard absorbs any constant: an intercept here would only shift the risk score.
        if self.intercept is not None or self.intercept_prior is not None or self.intercept_centres:
            raise ModelFormatError("a Cox regression has no intercept, intercept_prior or intercept_centres")
        ratio = self.group_hazard_ratio
        if ratio is not None and not (ratio.value > 0 and (ratio.ci95 is None or ratio.ci95[0] > 0)):
            raise ModelFormatError("group_hazard_ratio is a ratio: its value and ci95 must be positive")

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(t.variable for t in self.terms)

    def linear_predictor(self, values: Mapping[str, float]) -> float:
        """Intercept (logistic) plus the sum of beta * value over the terms."""
        intercept = self.intercept.value if self.intercept is not None else 0.0
        return intercept + sum(t.beta.value * values[t.variable] for t in self.terms)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "description": self.description}
        if self.intercept is not None:
            data["intercept"] = self.intercept.to_dict()
        if self.intercept_prior is not None:
            data["intercept_prior"] = self.intercept_prior
        if self.intercept_centres:
            data["intercept_centres"] = dict(self.intercept_centres)
        for name in ("cutoff", "group_hazard_ratio"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name).to_dict()
        data["terms"] = [t.to_dict() for t in self.terms]
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "Regression":
        data = _mapping(data, where)
        terms = _list(data.get("terms"), f"{where}.terms")
        optional: dict[str, Any] = {name: Parameter.from_dict(data[name], f"{where}.{name}")
                                    for name in ("intercept", "cutoff", "group_hazard_ratio") if name in data}
        if "intercept_prior" in data:
            optional["intercept_prior"] = _number(data["intercept_prior"], f"{where}.intercept_prior")
        if "intercept_centres" in data:
            centres = _mapping(data["intercept_centres"], f"{where}.intercept_centres")
            optional["intercept_centres"] = {
                _name(k, f"{where}.intercept_centres"): _number(v, _at(f"{where}.intercept_centres", k))
                for k, v in centres.items()}
        parsed = tuple(Term.from_dict(t, f"{where}.terms[{i}]") for i, t in enumerate(terms))
        description = _text(data.get("description", ""), f"{where}.description", empty=True)
        try:  # what the constructor checks has no path of its own
            return cls(kind=data.get("kind"), terms=parsed, description=description, **optional)
        except ModelFormatError as err:
            raise ModelFormatError(f"{where}: {err}") from None


@dataclass(frozen=True)
class Standardization:
    """z = (x - mean) / sd for one feature."""

    mean: Parameter
    sd: Parameter

    def __post_init__(self) -> None:
        if not self.sd.value > 0:
            raise ModelFormatError(f"a standard deviation must be positive, got {self.sd.value}")
        # Below this every real feature value's z-score passes 1e6 and exp() overflows: not a fit of real data.
        if self.sd.value < MIN_SD or self.sd.value < MIN_RELATIVE_SD * abs(self.mean.value):
            raise ModelFormatError(f"the standard deviation {self.sd.value:g} (mean {self.mean.value:g}) is too small "
                                   f"to be a fit (at least {MIN_RELATIVE_SD:g} x |mean| and {MIN_SD:g})")

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.to_dict(), "sd": self.sd.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "Standardization":
        data = _mapping(data, where)
        mean, sd = (Parameter.from_dict(data.get(name), f"{where}.{name}") for name in ("mean", "sd"))
        try:
            return cls(mean, sd)
        except ModelFormatError as err:
            raise ModelFormatError(f"{where}: {err}") from None


@dataclass(frozen=True)
class ReferencePopulation:
    """The nodules the standardization and cutoff come from: each case's feature values (and volume).

    Kept case by case, not as sorted columns: the model's domain, the bootstrap of the
    standardization and the cutoff's uncertainty need each nodule's features together.
    """

    description: str
    differs_from_paper: str
    cases: tuple[str, ...]
    feature_values: dict[str, tuple[float, ...]]  # one value per case, in the order of ``cases``
    volume_mm3: tuple[float, ...] | None = None  # the outline's volume per case, where known

    def __post_init__(self) -> None:
        if len(self.cases) < MIN_REFERENCE_CASES:
            raise ModelFormatError(f"the reference population needs at least {MIN_REFERENCE_CASES} cases, "
                                   f"it has {len(self.cases)}")
        if len(set(self.cases)) != len(self.cases):
            raise ModelFormatError("the reference population lists a case more than once")
        for name, column in self.feature_values.items():
            if len(column) != len(self.cases):
                raise ModelFormatError(f"reference feature {name} must hold one value per case")
        if self.volume_mm3 is not None and (len(self.volume_mm3) != len(self.cases)
                                            or not all(v > 0 for v in self.volume_mm3)):
            raise ModelFormatError("reference volume_mm3 must hold one positive volume per case")
        # The domain places a case's volume in SDs of the reference's log volumes: they must differ.
        if self.volume_mm3 is not None and len(set(self.volume_mm3)) < 2:
            raise ModelFormatError("reference volume_mm3 must not be the same for every case")

    def matrix(self, names: tuple[str, ...]) -> np.ndarray:
        """(cases x features) array of the named features."""
        return np.array([self.feature_values[n] for n in names], dtype=float).T

    def to_dict(self) -> dict[str, Any]:
        data = {"description": self.description, "differs_from_paper": self.differs_from_paper,
                "n": len(self.cases), "cases": list(self.cases),
                "feature_values": {k: list(v) for k, v in self.feature_values.items()}}
        if self.volume_mm3 is not None:
            data["volume_mm3"] = list(self.volume_mm3)
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "ReferencePopulation":
        data = _mapping(data, where)
        cases = _texts(data.get("cases"), f"{where}.cases")
        if "n" in data and _integer(data["n"], f"{where}.n") != len(cases):
            raise ModelFormatError(f"{where}.n is {data['n']} but {where}.cases lists {len(cases)} cases")
        values = _mapping(data.get("feature_values"), f"{where}.feature_values")
        parsed = {_name(name, f"{where}.feature_values"): _numbers(column, _at(f"{where}.feature_values", name))
                  for name, column in values.items()}
        volumes = data.get("volume_mm3")
        if volumes is not None:
            volumes = _numbers(volumes, f"{where}.volume_mm3")
        description, differs = (_text(data.get(name, ""), f"{where}.{name}", empty=True)
                                for name in ("description", "differs_from_paper"))
        try:
            return cls(description, differs, cases, parsed, volumes)
        except ModelFormatError as err:
            raise ModelFormatError(f"{where}: {err}") from None


@dataclass(frozen=True)
class Model:
    """A whole model file: the ALK and DFS regressions, standardization and reference data."""

    name: str
    version: str
    calibrated: bool
    description: str
    citation: str
    extraction: dict[str, Any]
    standardization: dict[str, Standardization]
    reference: ReferencePopulation
    alk_radiomic: Regression
    alk_combined: Regression
    dfs_radiomic: Regression
    dfs_clinical: Regression
    dfs_combined_note: str
    notes: tuple[str, ...] = ()
    # A validation on patients not used to fit the model (alk-radiomics validate --record); what the file
    # claims about itself, never more (a checksum detects corruption, not tampering).
    validation: ValidationRecord | None = None
    # Problems its maker found and wrote down instead of refusing (recalibrate --force): shown with every score.
    flags: tuple[str, ...] = ()
    # Set on loading: the identity of the file the model was read from.
    sha256: str = field(default="", compare=False)
    path: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _check_extraction(self.extraction)
        self._check_regressions()
        self._check_reference()

    def _check_regressions(self) -> None:
        if self.alk_radiomic.kind != "logistic" or self.alk_combined.kind != "logistic":
            raise ModelFormatError("alk_radiomic and alk_combined must be logistic regressions")
        if self.dfs_radiomic.kind != "cox" or self.dfs_clinical.kind != "cox":
            raise ModelFormatError("dfs_radiomic and dfs_clinical must be Cox regressions")
        if self.dfs_radiomic.cutoff is None:
            raise ModelFormatError("dfs_radiomic needs the cutoff that splits high from low risk")
        missing = [v for v in self.feature_names if v not in self.standardization]
        if missing:
            raise ModelFormatError(f"features {missing} have no standardization")
        unknown = set(self.alk_combined.variables) - {"rad_score", "hla_i_hscore", "pdl1_hscore"}
        if unknown:
            raise ModelFormatError(
                f"alk_combined may use rad_score, hla_i_hscore and pdl1_hscore, not {sorted(unknown)}"
            )
        if set(self.dfs_clinical.variables) != {"n_stage"}:
            raise ModelFormatError("dfs_clinical must have exactly one term, n_stage (0 = N0, 1 = N1-2)")

    def _check_reference(self) -> None:
        unlisted = [v for v in self.feature_names if v not in self.reference.feature_values]
        if unlisted:
            raise ModelFormatError(f"the reference population has no values of {unlisted}")
        cases = len(self.reference.cases)
        values = cases * len(self.feature_names)
        if cases > MAX_REFERENCE_CASES or values > MAX_REFERENCE_VALUES:
            raise ModelFormatError(
                f"the reference population holds {cases} cases x {len(self.feature_names)} features = {values:,} "
                f"values, more than the {MAX_REFERENCE_CASES:,} cases and {MAX_REFERENCE_VALUES:,} values whose "
                "bootstrap (4000 draws, for the uncertainty) a score can afford in time and memory")
        for name in self.feature_names:
            _check_bootstrap(name, self.reference.feature_values[name])

    @property
    def research_use_only(self) -> bool:
        """True unless the file carries a validation record that passes every gate (calibrated is not validated)."""
        return self.validation is None or not self.validation.passes

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The pyradiomics features the model needs, in first-use order."""
        return tuple(dict.fromkeys(self.alk_radiomic.variables + self.dfs_radiomic.variables))

    def standardize(self, features: Mapping[str, float]) -> dict[str, float]:
        """z = (value - mean) / sd for each feature the model needs."""
        return {name: (features[name] - self.standardization[name].mean.value) / self.standardization[name].sd.value
                for name in self.feature_names}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "version": self.version,
            "calibrated": self.calibrated,
            "description": self.description,
            "citation": self.citation,
            "notes": list(self.notes),
            "extraction": self.extraction,
            "standardization": {k: v.to_dict() for k, v in self.standardization.items()},
            "reference_population": self.reference.to_dict(),
            "alk_radiomic": self.alk_radiomic.to_dict(),
            "alk_combined": self.alk_combined.to_dict(),
            "dfs_radiomic": self.dfs_radiomic.to_dict(),
            "dfs_clinical": self.dfs_clinical.to_dict(),
            "dfs_combined": {"published": False, "note": self.dfs_combined_note},
            **({"validation": self.validation.to_dict()} if self.validation is not None else {}),
            **({"flags": list(self.flags)} if self.flags else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Model":
        data = _mapping(data, "model")
        _check_schema(data)
        texts = {key: _text(data.get(key), f"model.{key}") for key in ("name", "version", "description", "citation")}
        if not isinstance(data.get("calibrated"), bool):
            raise ModelFormatError("model.calibrated must be true or false")
        standardization = _mapping(data.get("standardization"), "model.standardization")
        dfs_combined = _mapping(data.get("dfs_combined"), "model.dfs_combined")
        # The schema has no combined DFS model: a file claiming one would have it silently ignored.
        if dfs_combined.get("published", False) is not False:
            raise ModelFormatError("model.dfs_combined.published must be false: ALKRadiomics computes no combined "
                                   "DFS model (the paper did not publish its coefficients)")
        return cls(
            **texts, calibrated=data["calibrated"],
            extraction=_mapping(data.get("extraction"), "model.extraction"),
            standardization={_name(k, "standardization"): Standardization.from_dict(v, _at("standardization", k))
                             for k, v in standardization.items()},
            reference=ReferencePopulation.from_dict(data.get("reference_population"), "reference_population"),
            alk_radiomic=Regression.from_dict(data.get("alk_radiomic"), "alk_radiomic"),
            alk_combined=Regression.from_dict(data.get("alk_combined"), "alk_combined"),
            dfs_radiomic=Regression.from_dict(data.get("dfs_radiomic"), "dfs_radiomic"),
            dfs_clinical=Regression.from_dict(data.get("dfs_clinical"), "dfs_clinical"),
            dfs_combined_note=_text(dfs_combined.get("note", ""), "model.dfs_combined.note", empty=True),
            notes=_texts(data.get("notes", []), "model.notes"),
            validation=ValidationRecord.from_dict(data["validation"]) if "validation" in data else None,
            flags=_texts(data.get("flags", []), "model.flags"),
        )


def _check_bootstrap(name: str, column: tuple[float, ...]) -> None:
    """The uncertainty bootstraps each feature's SD from the reference cases; a sample drawing one value only has
    SD 0 and turns every z-score into inf (a file with 119 of 120 values equal gave NaN intervals). Refuse a
    column where that has a chance (sum over its values of (cases holding it / cases) ^ cases) above
    MAX_DEGENERATE_BOOTSTRAP: a real feature of real nodules has no such ties."""
    counts = collections.Counter(column)
    chance = sum((count / len(column)) ** len(column) for count in counts.values())
    if chance > MAX_DEGENERATE_BOOTSTRAP:
        value, count = counts.most_common(1)[0]
        raise ModelFormatError(
            f"the reference values of {name} repeat too often ({count} of {len(column)} cases hold {value:g}): a "
            f"bootstrap of them draws a sample of one value, whose SD is 0, with probability {chance:.2g}")


def _check_schema(data: dict[str, Any]) -> None:
    if data.get("schema") != SCHEMA:
        raise ModelFormatError(f"not an ALKRadiomics model file (schema {_shown(data.get('schema'))}, "
                               f"expected {SCHEMA!r})")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFormatError(f"model.schema_version must be a whole number ({SCHEMA_VERSION} for this version), "
                               f"got {_shown(version)}")
    if version != SCHEMA_VERSION:
        raise ModelFormatError(
            f"model schema version {version} is not supported (this version reads {SCHEMA_VERSION}): "
            + (UPGRADE_HINT if version < SCHEMA_VERSION else "update ALKRadiomics to read it")
        )


def _check_extraction(extraction: Any) -> None:
    """Refuse extraction settings that differ in any way from the published ones (DESIGN section 3).

    The betas hold only for features computed as the paper computed them: a model file that sets another
    bin width or spacing would change every feature, silently (and a tiny one runs for minutes or exhausts
    memory). Compared type-aware: 25 and 25.0 are the same setting, true and 1 are not.
    """
    differences = _differences(extraction, load_parameters(), "extraction")
    if differences:
        raise ModelFormatError(
            f"the model would change the published extraction settings (DESIGN section 3, "
            f"Resources/pyradiomics_params.json): {'; '.join(differences[:3])}"
            + (f" and {len(differences) - 3} more" if len(differences) > 3 else "")
            + ". A model's features must be extracted as the paper's were: restore the published settings, or "
              "rebuild the model with alk-radiomics build-reference / recalibrate / train")


def _differences(given: Any, published: Any, where: str) -> list[str]:
    if isinstance(published, dict) and isinstance(given, dict):
        found = [f"{_at(where, k)} is missing (published: {_shown(v)})" for k, v in published.items()
                 if k not in given]
        found += [f"{_at(where, k)} = {_shown(v)} is not a published setting" for k, v in given.items()
                  if k not in published]
        for key in (k for k in published if k in given):
            found += _differences(given[key], published[key], _at(where, key))
        return found
    if isinstance(published, list) and isinstance(given, list) and len(given) == len(published):
        pairs = enumerate(zip(given, published, strict=True))
        return [d for i, (g, p) in pairs for d in _differences(g, p, f"{where}[{i}]")]
    return [] if _same_value(given, published) else [f"{where} = {_shown(given)} (published: {_shown(published)})"]


def _same_value(given: Any, published: Any) -> bool:
    def is_number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if is_number(given) and is_number(published):
        return given == published  # exact, also for an int too large for a float
    return type(given) is type(published) and given == published


def content_checksum(document: dict[str, Any]) -> str:
    """sha256 of the document's canonical JSON, without its own checksum entry."""
    canonical = json.dumps({k: v for k, v in document.items() if k != CHECKSUM_KEY},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def model_to_json(model: Model) -> str:
    """The model file's text, with its content checksum recorded; refused (:class:`ModelFormatError`) when
    load_model would refuse it, so that build-reference, recalibrate, train and validate never write a model
    file they cannot read back (a cohort beyond the bounds above, say)."""
    document = model.to_dict()
    try:
        document[CHECKSUM_KEY] = content_checksum(document)
        text = json.dumps(document, indent=1, allow_nan=False) + "\n"
        Model.from_dict(parse_json(text))
    except (ModelFormatError, ValueError) as err:
        raise ModelFormatError(" ".join(f"The model would not be a readable model file ({err}); nothing was "
                                        "written.".split())) from None
    return text


def load_model(path: str | os.PathLike) -> Model:
    """Read, check and return a model file; raise ModelFormatError naming what is wrong."""
    try:
        return _load(Path(path))
    except ModelFormatError as err:
        # One line, whatever the file's keys or the path hold: the CLI prints it as its one line of error.
        raise ModelFormatError(" ".join(str(err).split())) from None


def _load(path: Path) -> Model:
    if not path.is_file():
        raise ModelFormatError(f"Model file {path} does not exist; give the path of a model .json file.")
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelFormatError(f"Model file {path} is {size / 2**20:.0f} MB; a model file is at most "
                                   f"{MAX_MODEL_BYTES / 2**20:.0f} MB (the bundled one is 35 kB).")
        raw = path.read_bytes()
    except OSError as err:
        raise ModelFormatError(f"Cannot read model file {path}: {err.strerror}.") from None
    try:
        document = parse_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFormatError(f"Model file {path} is not valid JSON ({err}).") from None
    except RecursionError:
        raise ModelFormatError(f"Model file {path} is nested too deeply to be a model file.") from None
    except ModelFormatError as err:
        raise ModelFormatError(f"Model file {path} cannot be read: {err}.") from None
    if not isinstance(document, dict) or CHECKSUM_KEY not in document:
        raise ModelFormatError(f"Model file {path} records no {CHECKSUM_KEY}; it was not written by ALKRadiomics.")
    try:
        checksum = content_checksum(document)
    except RecursionError:  # json.dumps nests deeper than json.loads did when the stack is deeper here
        raise ModelFormatError(f"Model file {path} is nested too deeply to be a model file.") from None
    if document[CHECKSUM_KEY] != checksum:
        raise ModelFormatError(
            f"Model file {path} was changed after it was written: its content no longer matches its recorded "
            f"checksum. Restore the original file, or rebuild it with alk-radiomics build-reference / recalibrate."
        )
    try:
        model = Model.from_dict(document)
    except ModelFormatError as err:
        raise ModelFormatError(f"Model file {path} fails the schema: {err}.") from None
    return replace(model, sha256=hashlib.sha256(raw).hexdigest(), path=str(path))


def parse_json(text: str) -> Any:
    """json.loads, refusing what Python reads but no float can hold: 1e999 (inf), a 400-digit integer (which
    float() cannot convert), NaN and Infinity (Python's extensions)."""
    return json.loads(text, parse_float=_parse_float, parse_int=_parse_int, parse_constant=_no_constant)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ModelFormatError(f"the number {_shown(text, raw=True, limit=20)} is legal JSON but beyond the range of "
                               f"a float (Python reads it as {value}); a model file's numbers are at most "
                               f"{MAX_MAGNITUDE:g} in magnitude")
    return value


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise ModelFormatError(f"the integer {text[:20]}... ({digits} digits) is legal JSON but far beyond the "
                               f"largest number a model file holds ({MAX_MAGNITUDE:g})")
    return int(text)


def _no_constant(name: str):
    raise ModelFormatError(f"{name} is not a number JSON allows (NaN and Infinity are Python's extensions)")


# -- checking the document's values, each named by its JSON path ---------------------------------------------

def _shown(value: Any, raw: bool = False, limit: int = 60) -> str:
    """``value`` as the file writes it (true, null, "x"), cut short: a message names, it does not echo 1 MB."""
    try:
        text = value if raw else json.dumps(value)
    except (TypeError, ValueError, RecursionError):  # not from a JSON file: a value given in code
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def _at(where: str, key: Any) -> str:
    """The JSON path of ``key`` inside ``where``; a key that is not a plain name is quoted, and cut short."""
    return f"{where}.{key}" if isinstance(key, str) and PLAIN_NAME.fullmatch(key) else f"{where}[{_shown(key)}]"


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ModelFormatError(f"{where} must be a JSON object, got {_shown(data)}")
    return data


def _list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise ModelFormatError(f"{where} must be a list, got {_shown(data)}")
    return data


def _text(value: Any, where: str, empty: bool = False) -> str:
    """A string (non-empty unless ``empty``), short enough to print on a report."""
    if not isinstance(value, str) or not (empty or value.strip()):
        raise ModelFormatError(f"{where} must be a{'' if empty else ' non-empty'} string, got {_shown(value)}")
    if len(value) > MAX_TEXT_CHARS:
        raise ModelFormatError(f"{where} is {len(value):,} characters long; a model file's texts are at most "
                               f"{MAX_TEXT_CHARS:,}")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    return tuple(_text(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where)))


def _name(value: Any, where: str) -> str:
    """A feature or variable name (see NAME)."""
    if not isinstance(value, str) or not NAME.fullmatch(value) or value != value.strip():
        raise ModelFormatError(f"{where} must be a feature or variable name (printable text of at most 200 "
                               f"characters), got {_shown(value)}")
    return value


def _number(value: Any, where: str, bound: float = MAX_MAGNITUDE) -> float:
    """A finite number of magnitude at most ``bound``; true and false are not numbers (although True == 1)."""
    # Not "abs(value) > bound": NaN compares false. An int compares with a float exactly (10^400 overflows no
    # float() here), and inf fails too.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= bound:
        raise ModelFormatError(f"{where} must be a finite number of magnitude at most {bound:g}, got {_shown(value)}")
    return float(value)


def _numbers(value: Any, where: str) -> tuple[float, ...]:
    return tuple(_number(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where)))


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MAGNITUDE:
        raise ModelFormatError(f"{where} must be a count, got {_shown(value)}")
    return value


def _pair(value: Any, where: str, bound: float) -> tuple[float, float]:
    pair = _list(value, where)
    if len(pair) != 2:
        raise ModelFormatError(f"{where} must be [low, high], got {_shown(value)}")
    return _number(pair[0], f"{where}[0]", bound), _number(pair[1], f"{where}[1]", bound)
