"""The model file: JSON with a schema version, every number with its provenance (DESIGN section 5).

A model file is never pickled. :func:`load_model` validates the schema and the recorded content
checksum and returns a frozen :class:`Model`; an invalid file raises
:class:`~ALKRadiomicsLib.errors.ModelFormatError` naming the first problem found.

Provenance of a number is one of
- ``published``: ``source`` (table or section of the paper) and ``printed`` (the text as printed);
- ``derived``: ``data``, ``method``, ``command`` and ``date`` (how it was computed, from what);
- ``assumed``: ``reason`` (why this value, in words a reviewer can check).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFormatError
from .validation import ValidationRecord

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
        if self.kind not in _PROVENANCE_FIELDS:
            raise ModelFormatError(f"provenance type must be one of {sorted(_PROVENANCE_FIELDS)}, got {self.kind!r}")
        for key in _PROVENANCE_FIELDS[self.kind]:
            if not isinstance(self.details.get(key), str) or not self.details[key].strip():
                raise ModelFormatError(f"{self.kind} provenance needs a non-empty {key!r}")

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
        kind = data.get("type")
        try:
            return cls(kind, {k: v for k, v in data.items() if k != "type"})
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
    def from_dict(cls, data: Any, where: str) -> "Parameter":
        data = _mapping(data, where)
        value = _number(data.get("value"), f"{where}.value")
        ci95 = data.get("ci95")
        if ci95 is not None:
            if not isinstance(ci95, list) or len(ci95) != 2:
                raise ModelFormatError(f"{where}.ci95 must be [low, high]")
            ci95 = (_number(ci95[0], f"{where}.ci95[0]"), _number(ci95[1], f"{where}.ci95[1]"))
            if not ci95[0] <= value <= ci95[1]:
                raise ModelFormatError(f"{where}: value {value} lies outside its ci95 {list(ci95)}")
        feasible = data.get("feasible_range")
        if feasible is not None:
            if not isinstance(feasible, list) or len(feasible) != 2:
                raise ModelFormatError(f"{where}.feasible_range must be [low, high]")
            feasible = (_number(feasible[0], f"{where}.feasible_range[0]"),
                        _number(feasible[1], f"{where}.feasible_range[1]"))
            if not feasible[0] <= value <= feasible[1]:
                raise ModelFormatError(f"{where}: value {value} lies outside its feasible_range {list(feasible)}")
        return cls(value, Provenance.from_dict(data.get("provenance"), f"{where}.provenance"), ci95, feasible)


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
        variable = data.get("variable")
        if not isinstance(variable, str) or not variable:
            raise ModelFormatError(f"{where}.variable must be a non-empty string")
        return cls(variable, Parameter.from_dict(data.get("beta"), f"{where}.beta"),
                   str(data.get("label", "")), str(data.get("unit", "")))


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
        if self.kind not in ("logistic", "cox"):
            raise ModelFormatError(f"regression kind must be 'logistic' or 'cox', got {self.kind!r}")
        if not self.terms:
            raise ModelFormatError("a regression needs at least one term")
        if self.kind == "logistic":
            if self.intercept is None:
                raise ModelFormatError("a logistic regression needs an intercept")
            if self.intercept_prior is None or not 0.0 < self.intercept_prior < 1.0:
                raise ModelFormatError("a logistic regression needs intercept_prior, the ALK prevalence (strictly "
                                       "between 0 and 1) at which its intercept holds")
        unknown = set(self.intercept_centres) - set(self.variables)
        if unknown:
            raise ModelFormatError(f"intercept_centres names variables the model does not have: {sorted(unknown)}")

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
        terms = data.get("terms")
        if not isinstance(terms, list):
            raise ModelFormatError(f"{where}.terms must be a list")
        optional: dict[str, Any] = {name: Parameter.from_dict(data[name], f"{where}.{name}")
                                    for name in ("intercept", "cutoff", "group_hazard_ratio") if name in data}
        if "intercept_prior" in data:
            optional["intercept_prior"] = _number(data["intercept_prior"], f"{where}.intercept_prior")
        if "intercept_centres" in data:
            optional["intercept_centres"] = {
                str(k): _number(v, f"{where}.intercept_centres.{k}")
                for k, v in _mapping(data["intercept_centres"], f"{where}.intercept_centres").items()}
        try:
            return cls(kind=data.get("kind"), terms=tuple(Term.from_dict(t, f"{where}.terms[{i}]")
                                                          for i, t in enumerate(terms)),
                       description=str(data.get("description", "")), **optional)
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
        try:
            return cls(Parameter.from_dict(data.get("mean"), f"{where}.mean"),
                       Parameter.from_dict(data.get("sd"), f"{where}.sd"))
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
        if not self.cases:
            raise ModelFormatError("the reference population needs at least one case")
        for name, column in self.feature_values.items():
            if len(column) != len(self.cases):
                raise ModelFormatError(f"reference feature {name} must hold one value per case")
        if self.volume_mm3 is not None and (len(self.volume_mm3) != len(self.cases)
                                            or not all(v > 0 for v in self.volume_mm3)):
            raise ModelFormatError("reference volume_mm3 must hold one positive volume per case")

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
        cases = data.get("cases")
        values = _mapping(data.get("feature_values"), f"{where}.feature_values")
        if not isinstance(cases, list) or not cases:
            raise ModelFormatError(f"{where}.cases must be a non-empty list")
        parsed = {}
        for name, column in values.items():
            if not isinstance(column, list):
                raise ModelFormatError(f"{where}.feature_values.{name} must be a list")
            parsed[name] = tuple(_number(v, f"{where}.feature_values.{name}") for v in column)
        volumes = data.get("volume_mm3")
        if volumes is not None:
            if not isinstance(volumes, list):
                raise ModelFormatError(f"{where}.volume_mm3 must be a list")
            volumes = tuple(_number(v, f"{where}.volume_mm3") for v in volumes)
        try:
            return cls(str(data.get("description", "")), str(data.get("differs_from_paper", "")),
                       tuple(map(str, cases)), parsed, volumes)
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
        unlisted = [v for v in self.feature_names if v not in self.reference.feature_values]
        if unlisted:
            raise ModelFormatError(f"the reference population has no values of {unlisted}")
        if set(self.dfs_clinical.variables) != {"n_stage"}:
            raise ModelFormatError("dfs_clinical must have exactly one term, n_stage (0 = N0, 1 = N1-2)")

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
        if data.get("schema") != SCHEMA:
            raise ModelFormatError(
                f"not an ALKRadiomics model file (schema {data.get('schema')!r}, expected {SCHEMA!r})"
            )
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ModelFormatError(
                f"model schema version {data.get('schema_version')!r} is not supported (this version reads "
                f"{SCHEMA_VERSION}): " + (UPGRADE_HINT if isinstance(data.get("schema_version"), int)
                                          and data["schema_version"] < SCHEMA_VERSION
                                          else "update ALKRadiomics to read it")
            )
        for key in ("name", "version", "description", "citation"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ModelFormatError(f"model.{key} must be a non-empty string")
        if not isinstance(data.get("calibrated"), bool):
            raise ModelFormatError("model.calibrated must be true or false")
        standardization = _mapping(data.get("standardization"), "model.standardization")
        dfs_combined = _mapping(data.get("dfs_combined"), "model.dfs_combined")
        return cls(
            name=data["name"], version=data["version"], calibrated=data["calibrated"],
            description=data["description"], citation=data["citation"],
            extraction=_mapping(data.get("extraction"), "model.extraction"),
            standardization={k: Standardization.from_dict(v, f"standardization.{k}")
                             for k, v in standardization.items()},
            reference=ReferencePopulation.from_dict(data.get("reference_population"), "reference_population"),
            alk_radiomic=Regression.from_dict(data.get("alk_radiomic"), "alk_radiomic"),
            alk_combined=Regression.from_dict(data.get("alk_combined"), "alk_combined"),
            dfs_radiomic=Regression.from_dict(data.get("dfs_radiomic"), "dfs_radiomic"),
            dfs_clinical=Regression.from_dict(data.get("dfs_clinical"), "dfs_clinical"),
            dfs_combined_note=str(dfs_combined.get("note", "")),
            notes=tuple(map(str, data.get("notes", []))),
            validation=ValidationRecord.from_dict(data["validation"]) if "validation" in data else None,
            flags=tuple(map(str, data.get("flags", []))),
        )


def content_checksum(document: dict[str, Any]) -> str:
    """sha256 of the document's canonical JSON, without its own checksum entry."""
    canonical = json.dumps({k: v for k, v in document.items() if k != CHECKSUM_KEY},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def model_to_json(model: Model) -> str:
    """The model file's text, with its content checksum recorded."""
    document = model.to_dict()
    document[CHECKSUM_KEY] = content_checksum(document)
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def load_model(path: str | os.PathLike) -> Model:
    """Read, check and return a model file; raise ModelFormatError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(f"Model file {path} does not exist; give the path of a model .json file.")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ModelFormatError(f"Cannot read model file {path}: {err.strerror}.") from None
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFormatError(f"Model file {path} is not valid JSON ({err}).") from None
    except RecursionError:
        raise ModelFormatError(f"Model file {path} is nested too deeply to be a model file.") from None
    except ModelFormatError as err:
        raise ModelFormatError(f"Model file {path} is not valid JSON: {err}.") from None
    if not isinstance(document, dict) or CHECKSUM_KEY not in document:
        raise ModelFormatError(f"Model file {path} records no {CHECKSUM_KEY}; it was not written by ALKRadiomics.")
    if document[CHECKSUM_KEY] != content_checksum(document):
        raise ModelFormatError(
            f"Model file {path} was changed after it was written: its content no longer matches its recorded "
            f"checksum. Restore the original file, or rebuild it with alk-radiomics build-reference / recalibrate."
        )
    try:
        model = Model.from_dict(document)
    except ModelFormatError as err:
        raise ModelFormatError(f"Model file {path} fails the schema: {err}.") from None
    return replace(model, sha256=hashlib.sha256(raw).hexdigest(), path=str(path))


def _no_constant(name: str):
    raise ModelFormatError(f"{name} is not a number JSON allows (NaN and Infinity are Python's extensions)")


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ModelFormatError(f"{where} must be a JSON object")
    return data


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelFormatError(f"{where} must be a finite number, got {value!r}")
    return float(value)
