"""The web app's server side: trame state and handlers over one :class:`~.session.CaseSession`.

One server process holds one MRML scene: every browser tab connected to it sees and edits the same
case (as in trame-slicer). The handlers turn every :class:`ALKRadiomicsError` into one line in the
page (``state.message``); anything else is logged with its traceback and shown as one line too,
so the server keeps running whatever a user sends.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ..errors import ALKRadiomicsError, InputError
from . import cases, page
from .session import CaseSession

logger = logging.getLogger(__name__)

REVIEW_DELAY_S = 0.3  # edits arrive per brush stamp; review once the stroke has settled


class WebApp:
    """``alk-radiomics web``: the Segment -> Review -> Score -> Export workflow in a browser."""

    def __init__(self, server=None, data_dir: str | Path | None = None) -> None:
        from trame.app import get_server
        from trame_slicer import module as trame_slicer_module
        from trame_slicer.core import LayoutManager, SlicerApp
        from trame_slicer.rca_view import register_rca_factories

        self.server = get_server(server, client_type="vue3")
        self.server.enable_module(trame_slicer_module)
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.slicer_app = SlicerApp()
        if not logger.isEnabledFor(logging.DEBUG):
            # VTK 9.6 warns about deprecated interactor events on every view; -v shows them. (A static
            # vtkObject method, reached through the scene: only mrml.py imports VTK.)
            self.slicer_app.scene.GlobalWarningDisplayOff()
        register_rca_factories(self.slicer_app.view_manager, self.server, slice_view_ui_f=page.slice_view_gutter)
        self.layout_manager = LayoutManager(self.slicer_app.scene, self.slicer_app.view_manager, self.server)
        self.layout_manager.register_layout_dict(LayoutManager.default_grid_configuration())
        self.layout_manager.set_layout("Quad View")
        self.session = CaseSession(self.slicer_app, on_edit=self._edited)
        self.session.on_outline = self._outline_done
        self._review_task: asyncio.Task | None = None

        state = self.server.state
        state.update({"trame__title": "ALK Radiomics", "trame__favicon": None,
                      "cases": cases.list_cases(self.data_dir), "case_choice": cases.SAMPLE_CASE, "case_name": "",
                      "message": "", "message_kind": "info", "loading": False, "has_outline": False,
                      "placing": False, "review_html": "", "voxels": 0, "effect": "none", "can_undo": False,
                      "can_redo": False, "hla": "", "pdl1": "", "n_stage": "not given", "prevalence": "",
                      "scoring": False, "progress": 0, "progress_stage": "", "result_html": "", "scored": False,
                      "upload": None, "goto": "", "show_3d": False, "is_dicom": False})
        for signal in self.session.undo_stack.signals():
            signal.connect(self._undo_changed)
        self.server.state.change("effect")(self._effect_changed)
        self.server.state.change("upload")(self._upload_changed)
        self.server.state.change("show_3d")(self._show_3d_changed)
        self.ui = page.build(self)
        _warm_up()

    # -- messages ---------------------------------------------------------------------------------
    def say(self, text: str, kind: str = "info") -> None:
        self.server.state.update({"message": text, "message_kind": kind})

    def _fail(self, error: Exception) -> None:
        if isinstance(error, ALKRadiomicsError):
            self.say(str(error).splitlines()[0] if str(error) else type(error).__name__, "error")
        else:
            logger.exception("web app: unexpected error", exc_info=error)
            first = str(error).splitlines()[0] if str(error) else ""
            self.say(f"Unexpected error ({type(error).__name__}: {first}); the server keeps running and its log has "
                     "the details.", "error")

    # -- opening a CT -----------------------------------------------------------------------------
    def open_case(self) -> None:
        state = self.server.state
        try:
            choice = str(state.case_choice)
            path = cases.resolve_case(self.data_dir, choice)
            name = "lung2" if choice == cases.SAMPLE_CASE else Path(choice).name.split(".")[0]
            try:
                self._load(path, name)
            except ALKRadiomicsError as error:  # the page names the file as it offered it, not the server's path
                raise type(error)(str(error).replace(str(path), choice)) from None
        except Exception as error:
            self._fail(error)

    def _upload_changed(self, upload, **_) -> None:
        if not upload:
            return
        file = upload[0] if isinstance(upload, list) else upload
        self.server.state.upload = None
        try:
            name = str(file.get("name", "upload"))
            content = file.get("content") or b""
            if isinstance(content, list):  # large files arrive in chunks
                content = b"".join(content)
            if name.lower().endswith(".zip"):
                self._load_zip(name, content)
            else:
                with cases.uploaded_file(name, content) as path:
                    self._load(path, name.split(".")[0])
        except Exception as error:
            self._fail(error)

    def _load_zip(self, name: str, content: bytes) -> None:
        """A zipped DICOM series: unpacked into a private folder that lives while its case is open (the SR
        and SEG read the series' headers), removed when another case is opened or refused."""
        folder = cases.extract_dicom_zip(name, content)
        try:
            try:
                self._load(Path(folder.name), name[:-4])
            except ALKRadiomicsError as error:
                raise type(error)(str(error).replace(folder.name, name)) from None
        except BaseException:
            folder.cleanup()
            raise
        self.session.keep_until_closed(folder)

    def _load(self, path: Path, name: str) -> None:
        self.session.load(path, name)
        self.server.state.update({"case_name": name, "is_dicom": self.session.dicom_files is not None,
                                  "has_outline": False, "review_html": "", "voxels": 0,
                                  "effect": "none", "result_html": "", "scored": False, "placing": False})
        self.say(f"Opened {name}. Click 'Place seed', then inside the nodule in a slice view.")

    # -- the outline ------------------------------------------------------------------------------
    def place_seed(self) -> None:
        try:
            self.session.place_seed()
            self.server.state.update({"placing": True, "effect": "none"})
            self.say("Click inside the nodule in a slice view.")
        except Exception as error:
            self._fail(error)

    def go_to(self) -> None:
        """Centre the slice views on a point typed as 'R, A, S' in millimetres (from a report, say)."""
        try:
            text = str(self.server.state.goto or "").replace(";", ",")
            try:
                ras = [float(part) for part in text.split(",")]
            except ValueError:
                ras = []
            if len(ras) != 3:
                raise InputError(f"Type a point as R, A, S in mm (e.g. -60.5, 20, -110), got {text!r}.")
            self.session.centre_on(ras)
        except Exception as error:
            self._fail(error)

    def _outline_done(self, segment_id: str | None, error: Exception | None) -> None:
        state = self.server.state
        state.placing = False
        if error is not None:
            self._fail(error)
        else:
            # The outline is shown at once; its review (0.3 s on lung2) follows, off the click's path.
            state.update({"has_outline": True, "review_html": "", "voxels": self.session.voxel_count(),
                          "result_html": "", "scored": False})
            self.say("Outline made. Review it; correct with Paint / Erase; then Score.")
            self._schedule_review(REVIEW_DELAY_S)  # after the views have sent their new frames
        state.flush()

    def _edited(self) -> None:
        self.server.state.update({"result_html": "", "scored": False})
        # The review is recomputed once a stroke has settled, off the brush's own path.
        self._schedule_review(REVIEW_DELAY_S)

    def _schedule_review(self, delay_s: float) -> None:
        if self._review_task is not None and not self._review_task.done():
            self._review_task.cancel()
        self._review_task = asyncio.ensure_future(self._refresh_review(delay_s))

    async def _refresh_review(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        state = self.server.state
        try:
            state.update({"review_html": self.session.review_html(), "voxels": self.session.voxel_count()})
        except Exception as error:  # an edit that empties the outline
            state.update({"review_html": "", "voxels": self.session.voxel_count()})
            self._fail(error if isinstance(error, ALKRadiomicsError) else InputError(f"Outline: {error}"))
        state.flush()

    def _effect_changed(self, effect, **_) -> None:
        try:
            self.session.set_effect(effect or "none")
        except Exception as error:
            self._fail(error)
            if effect != "none":
                self.server.state.effect = "none"

    def _show_3d_changed(self, show_3d, **_) -> None:
        # Off by default: the surface is rebuilt after every stroke, which a CPU-only server feels.
        try:
            self.session.show_3d(bool(show_3d))
        except Exception as error:
            self._fail(error)

    def _undo_changed(self, *_) -> None:
        self.server.state.update({"can_undo": self.session.undo_stack.can_undo(),
                                  "can_redo": self.session.undo_stack.can_redo()})

    def keep_largest_island(self) -> None:
        try:
            self.session.keep_largest_island()
            self.server.state.effect = "none"
        except Exception as error:
            self._fail(error)

    def undo(self) -> None:
        self.session.undo()

    def redo(self) -> None:
        self.session.redo()

    # -- score and downloads ----------------------------------------------------------------------
    async def score(self) -> None:
        from ..scoring.score import check_h_score, check_n_stage, check_prevalence
        from ..scoring.summary import summary_html

        state = self.server.state
        if state.scoring:
            return
        loop = asyncio.get_running_loop()
        try:
            hla = check_h_score(state.hla or None, "HLA-I")
            pdl1 = check_h_score(state.pdl1 or None, "PD-L1")
            n_stage = None if state.n_stage in (None, "", "not given") else check_n_stage(state.n_stage)
            prevalence = check_prevalence(state.prevalence or None)
            case = self.session.case_for_scoring()
            state.update({"scoring": True, "progress": 0, "progress_stage": "starting", "message": ""})
            state.flush()

            def progress(stage: str, fraction: float) -> None:
                loop.call_soon_threadsafe(self._progress, stage, fraction)

            # Scoring is numpy on the Case only (no MRML), so it runs off the event loop: the page stays live.
            result = await loop.run_in_executor(None, lambda: self.session.logic.score(
                case, hla=hla, pdl1=pdl1, n_stage=n_stage, prevalence=prevalence, progress=progress))
            self.session.case, self.session.result = case, result
            state.update({"result_html": summary_html(result), "scored": True, "progress": 100})
            self.say("Scored. Download the PDF report or the JSON below.")
        except Exception as error:
            self._fail(error)
        finally:
            state.scoring = False
            state.flush()

    def _progress(self, stage: str, fraction: float) -> None:
        self.server.state.update({"progress": round(100 * fraction), "progress_stage": stage})
        self.server.state.flush()

    def download(self, kind: str):
        """The bytes of one output, handed to the browser as an attachment (trame's download path)."""
        try:
            _, _, data = self.session.download(kind)
        except Exception as error:
            self._fail(error)
            return None
        return self.server.protocol.addAttachment(data)

    def start(self, host: str = "127.0.0.1", port: int = 8080, open_browser: bool = False) -> None:
        self.server.start(host=host, port=port, open_browser=open_browser, show_connection_info=True)


def _warm_up() -> None:
    """Import what the first click and the first Score need now (about 1 s), not while a user waits."""
    from .. import export, segmentation  # noqa: F401
    from ..model import load_bundled_model
    from ..scoring import score_case  # noqa: F401
    from ..scoring.summary import summary_html  # noqa: F401

    load_bundled_model()
