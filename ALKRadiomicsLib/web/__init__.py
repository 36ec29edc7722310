"""``alk-radiomics web``: the Slicer panel's workflow in a browser, on Slicer's own MRML (trame-slicer).

The page drives :class:`~ALKRadiomicsLib.logic.NoduleLogic` and :mod:`ALKRadiomicsLib.export`, the
same code as the Slicer panel and the CLI. Needs the ``[web]`` extra (trame-slicer with slicer-core).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, MissingDependencyError


def serve(host: str = "127.0.0.1", port: int = 8080, data_dir: str | Path | None = None) -> None:
    """Start the web app and serve until interrupted."""
    if data_dir is not None and not Path(data_dir).is_dir():
        raise InputError(f"--data {data_dir} is not a folder.")
    try:
        import trame_slicer  # noqa: F401
    except ImportError:
        raise MissingDependencyError("alk-radiomics web needs the [web] extra: pip install 'alk-radiomics[web]'.") \
            from None
    from .app import WebApp

    WebApp(data_dir=data_dir).start(host=host, port=port)
