"""Loading the model file a user names (or the bundled one): every failure is one ModelFormatError.

``model.schema.load_model`` refuses what a hostile file can hold (NaN / Infinity literals, nesting
deep enough to exhaust the recursion limit, a standard deviation so small that every z-score
overflows, an unreadable path), so the CLI, the panel and the web app give one line, never a traceback.
"""

from __future__ import annotations

import os

from .model import Model, bundled_model_path, load_model


def load_model_file(path: str | os.PathLike | None) -> Model:
    """The model at ``path`` (the bundled one when None), or :class:`ModelFormatError` with the reason."""
    return load_model(bundled_model_path() if path is None else path)
