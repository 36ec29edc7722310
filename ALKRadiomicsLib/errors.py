"""One exception hierarchy for everything a user can get wrong.

The CLI maps :class:`ALKRadiomicsError` to exit status 2 and one line on stderr; the Slicer
panel shows it in a dialog. Any other exception reaching a user is a bug.
"""


class ALKRadiomicsError(Exception):
    """Base class: a problem the user can fix, stated with the fix."""


class InputError(ALKRadiomicsError, ValueError):
    """An image, mask, DICOM folder, path or value that cannot be used as given."""


class ModelFormatError(ALKRadiomicsError, ValueError):
    """A model file that fails its schema or its checksum."""


class SegmentationError(ALKRadiomicsError, ValueError):
    """A seed or image from which no trustworthy outline can be made."""


class MissingDependencyError(ALKRadiomicsError, ImportError):
    """An optional package that a requested feature needs is not installed."""
