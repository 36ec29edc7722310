"""The page: a side panel with the Slicer panel's workflow, top to bottom, beside the four views.

Every control a user (or the browser test) acts on carries a ``data-testid``. Nothing here loads
from the internet: trame serves Vue, Vuetify and its icons itself.
"""

from __future__ import annotations

from .session import DOWNLOADS

N_STAGES = ["not given", "N0", "N1-2"]


def tid(name: str) -> dict:
    """A ``data-testid`` attribute (trame passes unknown keyword arguments on only as raw attributes)."""
    return {"raw_attrs": [f'data-testid="{name}"']}


def slice_view_gutter(server, view_id: str, view) -> None:
    """trame-slicer's own slice view controls, plus a marker naming the view (``view-Red`` is axial)."""
    from trame.widgets import html
    from trame_slicer.app.ui import create_vertical_slice_view_gutter_ui

    create_vertical_slice_view_gutter_ui(server, view_id, view)
    html.Span(style="display: none", **tid(f"view-{view_id}"))


def _download_click(app, kind: str) -> str:
    mime, suffix = DOWNLOADS[kind]
    trigger = app.server.controller.trigger_name(app.download)
    return f"utils.download(case_name + '{suffix}', trigger('{trigger}', ['{kind}']), '{mime}')"


def build(app):
    """The page's layout for ``app`` (a :class:`~.app.WebApp`)."""
    from trame.ui.vuetify3 import VAppLayout
    from trame.widgets import html
    from trame.widgets import vuetify3 as v

    ctrl = app.server.controller
    with VAppLayout(app.server, full_height=True) as layout:
        with v.VNavigationDrawer(permanent=True, width=380, location="left"), html.Div(classes="pa-3"):
            html.Div("ALK Radiomics", classes="text-h6")
            html.Div("Research use only; not locally validated.", classes="text-caption text-error mb-2")
            v.VAlert(v_if=("message",), text=("message",), type=("message_kind",), density="compact",
                     variant="tonal", classes="mb-2", **tid("message"))

            html.Div("1. CT", classes="text-subtitle-2 mt-2")
            v.VSelect(v_model=("case_choice",), items=("cases",), label="Case", density="compact", hide_details=True,
                      **tid("case-select"))
            v.VBtn("Open", click=app.open_case, block=True, classes="mt-1", loading=("loading",),
                   **tid("open-case"))
            v.VFileInput(v_model=("upload",), label="or upload .nrrd / .nii(.gz) / .mha / DICOM .zip",
                         density="compact", hide_details=True, classes="mt-2", show_size=True, **tid("upload"))

            html.Div("2. Outline and review", classes="text-subtitle-2 mt-3")
            with html.Div(classes="d-flex"):
                v.VTextField(v_model=("goto",), label="Go to R, A, S (mm)", density="compact", hide_details=True,
                             **tid("goto"))
                v.VBtn("Go", click=app.go_to, disabled=("!case_name",), classes="ml-1 align-self-center",
                       **tid("goto-button"))
            v.VBtn("Place seed", click=app.place_seed, block=True, classes="mt-1", disabled=("!case_name",),
                   color=("placing ? 'primary' : undefined",), **tid("place-seed"))
            with v.VBtnToggle(v_model=("effect",), mandatory=True, density="compact", divided=True,
                              classes="mt-2", disabled=("!has_outline",)):
                v.VBtn("Navigate", value="none", **tid("tool-none"))
                v.VBtn("Paint", value="paint", **tid("tool-paint"))
                v.VBtn("Erase", value="erase", **tid("tool-erase"))
            with html.Div(classes="d-flex mt-1"):
                v.VBtn("Undo", click=app.undo, disabled=("!can_undo",), size="small", **tid("undo"))
                v.VBtn("Redo", click=app.redo, disabled=("!can_redo",), size="small", classes="ml-1",
                       **tid("redo"))
                v.VBtn("Keep largest", click=app.keep_largest_island, disabled=("!has_outline",), size="small",
                       classes="ml-1", **tid("keep-largest"))
                html.Span("{{ voxels }} voxels", classes="ml-auto text-caption align-self-center",
                          raw_attrs=['data-testid="voxels"', ':data-voxels="voxels"'])
            v.VCheckbox(v_model=("show_3d",), label="Outline in 3D view", density="compact", hide_details=True,
                        disabled=("!has_outline",), **tid("show-3d"))
            html.Div(v_html=("review_html",), classes="text-body-2 mt-1", **tid("review"))

            html.Div("3. Pathology (optional)", classes="text-subtitle-2 mt-3")
            with html.Div(classes="d-flex"):
                v.VTextField(v_model=("hla",), label="HLA-I H-score", density="compact", hide_details=True,
                             **tid("hla"))
                v.VTextField(v_model=("pdl1",), label="PD-L1 H-score", density="compact", hide_details=True,
                             classes="ml-1", **{"data-testid": "pdl1"})
            with html.Div(classes="d-flex mt-1"):
                v.VSelect(v_model=("n_stage",), items=("n_stages", N_STAGES), label="N stage", density="compact",
                          hide_details=True, **tid("n-stage"))
                v.VTextField(v_model=("prevalence",), label="ALK prevalence (e.g. 0.05)", density="compact",
                             hide_details=True, classes="ml-1", **tid("prevalence"))

            html.Div("4. Score", classes="text-subtitle-2 mt-3")
            v.VBtn("Score", click=app.score, block=True, color="primary", disabled=("!has_outline || scoring",),
                   **tid("score"))
            v.VProgressLinear(v_if=("scoring",), model_value=("progress",), height=6, classes="mt-1",
                              **tid("progress"))
            html.Div("{{ progress_stage }}", v_if=("scoring",), classes="text-caption")
            html.Div(v_html=("result_html",), classes="text-body-2 mt-2", **tid("result"))

            html.Div("5. Download", classes="text-subtitle-2 mt-3")
            with html.Div(classes="d-flex flex-wrap"):
                v.VBtn("PDF", click=_download_click(app, "report"), disabled=("!scored",), size="small",
                       **tid("download-report"))
                v.VBtn("JSON", click=_download_click(app, "json"), disabled=("!scored",), size="small",
                       classes="ml-1", **tid("download-json"))
                for kind, title in (("dicom_sr", "DICOM SR"), ("dicom_seg", "DICOM SEG")):
                    v.VBtn(title, v_if=("is_dicom",), click=_download_click(app, kind), disabled=("!scored",),
                           size="small", classes="ml-1", **tid(f"download-{kind.replace('_', '-')}"))
                v.VBtn("Outline", click=_download_click(app, "outline"), disabled=("!has_outline",), size="small",
                       classes="ml-1", **tid("download-outline"))
        with v.VMain(), html.Div(classes="d-flex flex-row fill-height", style="height: 100vh",
                                 **tid("views")):
            app.layout_manager.initialize_layout_grid(layout)
    ctrl.trigger_name(app.download)  # register the download trigger before the first client connects
    return layout
