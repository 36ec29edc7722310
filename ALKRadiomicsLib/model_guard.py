"""Loading the model file a user names (or the bundled one): every failure is one ModelFormatError.

A model file is hostile input (DESIGN section 7). ``model.schema.load_model`` refuses, each with one line
naming the field and the fix: a file too large to be a model; NaN / Infinity literals, and numbers Python
reads but no float holds (1e999, a 400-digit integer); nesting deep enough to exhaust the recursion limit;
a changed content checksum; any field of the wrong type (true is not 1, a list is not a string) or beyond
the bounds that keep the arithmetic finite (a standard deviation so small that every z-score overflows, a
beta whose exp() overflows, a reference the bootstrap would reduce to SD 0); and extraction settings that
differ in any way from the published ones (DESIGN section 3). The CLI, the panel and the web app therefore
give one line, never a traceback, and never score with another method than the paper's.
"""

from __future__ import annotations

import os

from .model import Model, bundled_model_path, load_model


def load_model_file(path: str | os.PathLike | None) -> Model:
    """The model at ``path`` (the bundled one when None), or :class:`ModelFormatError` with the reason."""
    return load_model(bundled_model_path() if path is None else path)
