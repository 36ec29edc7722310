"""Loading a model file that a user (or an attacker) hands over: every failure is a ModelFormatError.

``model.schema.load_model`` checks the schema and the checksum; a hostile file can still fail
below it: ``NaN``/``Infinity`` literals (Python's json accepts them, the checksum's canonical JSON
then raises ValueError), nesting deep enough to exhaust the recursion limit, or a standard
deviation so small that every z-score overflows during scoring. Those are caught here, at the
boundary, so the CLI and the panel give one line instead of a traceback.
"""

from __future__ import annotations

import os

from .errors import ALKRadiomicsError, ModelFormatError
from .model import Model, bundled_model_path, load_model

# A standard deviation below this fraction of its mean (or below the floor) turns any real
# feature value into a z-score past 1e6, whose exp() overflows: the file cannot be a fit.
MIN_RELATIVE_SD = 1e-6
MIN_SD = 1e-9


def load_model_file(path: str | os.PathLike | None) -> Model:
    """The model at ``path`` (the bundled one when None), or :class:`ModelFormatError` with the reason."""
    path = bundled_model_path() if path is None else path
    try:
        model = load_model(path)
    except ALKRadiomicsError:
        raise
    except RecursionError:
        raise ModelFormatError(f"Model file {path} is nested too deeply to be a model file.") from None
    except ValueError as err:  # NaN / Infinity literals: not JSON, refused by the canonical checksum
        raise ModelFormatError(f"Model file {path} holds numbers JSON does not allow (NaN or Infinity): {err}.") \
            from None
    except OSError as err:
        raise ModelFormatError(f"Cannot read model file {path}: {err.strerror}.") from None
    for name, standardization in model.standardization.items():
        sd, mean = standardization.sd.value, standardization.mean.value
        if sd < MIN_SD or sd < MIN_RELATIVE_SD * abs(mean):
            raise ModelFormatError(
                f"Model file {path}: the standard deviation of {name} ({sd:g}, mean {mean:g}) is too small to be a "
                f"fit (at least {MIN_RELATIVE_SD:g} x |mean| and {MIN_SD:g}); every z-score would overflow."
            )
    return model
