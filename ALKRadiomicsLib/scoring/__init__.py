"""Scoring a case with a model file (DESIGN sections 4-5)."""

from .result import AlkResult, CaseResult, DfsResult, FeatureReport, Interval, ModelIdentity, Uncertainty
from .score import logistic, logit, score_case

__all__ = ["AlkResult", "CaseResult", "DfsResult", "FeatureReport", "Interval", "ModelIdentity", "Uncertainty",
           "logistic", "logit", "score_case"]
