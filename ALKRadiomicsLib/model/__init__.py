"""Model files: the published signature with every number's provenance (DESIGN sections 4-5)."""

from __future__ import annotations

from pathlib import Path

from ..resources import resource_path
from .reference import BUNDLED_MODEL_FILE
from .schema import Model, Parameter, Provenance, Regression, Standardization, Term, load_model, model_to_json


def bundled_model_path() -> Path:
    return resource_path(BUNDLED_MODEL_FILE)


def load_bundled_model() -> Model:
    """The model shipped in Resources/ (uncalibrated; standardization from LIDC nodules)."""
    return load_model(bundled_model_path())


__all__ = ["Model", "Parameter", "Provenance", "Regression", "Standardization", "Term", "bundled_model_path",
           "load_bundled_model", "load_model", "model_to_json"]
