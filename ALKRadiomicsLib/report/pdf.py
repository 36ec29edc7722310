"""The tumour-board PDF: two A4 pages drawn with matplotlib, written atomically."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import SimpleITK as sitk

from ..atomic import write_bytes_atomic
from .content import ReportContent
from .figures import draw_probability_scale, draw_view, nodule_views, pyplot

PAGE = (8.27, 11.69)  # A4, inches
MARGIN = 0.07  # figure fraction
WRAP = 118  # characters per line at 8 pt across the page
FOOTER = 0.045  # figure fraction kept free at the foot of each page


class _Page:
    """A figure with a cursor moving down the page."""

    def __init__(self, plt):
        self.figure = plt.figure(figsize=PAGE)
        self.y = 1 - MARGIN * 0.6

    def lines_left(self, size: float = 8) -> int:
        """How many text lines of ``size`` points still fit above the footer."""
        return int((self.y - FOOTER) * PAGE[1] * 72 / (size * 1.45))

    def advance(self, points: float) -> float:
        self.y -= points / 72 / PAGE[1]
        return self.y

    def text(self, text: str, size: float = 8, weight: str = "normal", colour: str = "black", x: float = MARGIN):
        width = int(WRAP * 8 / size * (0.9 if weight == "bold" else 1.0))
        for line in textwrap.wrap(text, width) or [""]:
            self.figure.text(x, self.advance(size * 1.45), line, fontsize=size, weight=weight, color=colour,
                             va="bottom")

    def rows(self, rows, key_width: float = 0.30):
        for key, value in rows:
            lines = textwrap.wrap(value, int(WRAP * (1 - key_width - MARGIN))) or [""]
            self.figure.text(MARGIN, self.advance(8 * 1.45), key, fontsize=8, weight="bold", va="bottom")
            self.figure.text(MARGIN + key_width, self.y, lines[0], fontsize=8, va="bottom")
            for line in lines[1:]:
                self.figure.text(MARGIN + key_width, self.advance(8 * 1.45), line, fontsize=8, va="bottom")

    def heading(self, text: str):
        self.advance(6)
        self.text(text, size=10.5, weight="bold", colour="#08306b")

    def axes(self, height_points: float, left: float = MARGIN, width: float = 1 - 2 * MARGIN,
             title_points: float = 14, below_points: float = 14):
        """Axes of the given height below the cursor, with room for a title above and ticks below."""
        self.advance(title_points)
        bottom = self.advance(height_points)
        axes = self.figure.add_axes([left, bottom, width, height_points / 72 / PAGE[1]])
        self.advance(below_points)
        return axes


def render_pdf(content: ReportContent, image: sitk.Image, mask: sitk.Image, label: int) -> bytes:
    """The report as PDF bytes. Page 1: verdict and scores; then the nodule, the features, warnings and
    provenance, on as many pages as they need; case, research-use state and page number on every page."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    pages: list[_Page] = []

    def new_page() -> _Page:
        page = _Page(plt)
        if content.banner:
            _banner(page, content.banner)
        pages.append(page)
        return page

    first = new_page()
    first.text(content.title, size=13, weight="bold")
    if content.headline:
        first.advance(2)
        first.text(content.headline, size=9, weight="bold", colour="#b00020")
    first.rows(content.verdict)
    first.rows(content.identification)
    first.heading("ALK rearrangement")
    draw_probability_scale(first.axes(26), *content.alk_scale)
    if content.combined_scale:
        draw_probability_scale(first.axes(26), *content.combined_scale)
    first.rows(content.alk)
    first.heading("Disease-free survival if ALK-positive (RAD-risk)")
    first.rows(content.dfs)

    page = new_page()
    page.heading("The nodule (lung window, outline in yellow)")
    width = (1 - 2 * MARGIN - 0.04) / 3
    bottom_y = page.y
    for k, view in enumerate(nodule_views(image, mask, label)):
        page.y = bottom_y
        draw_view(page.axes(130, left=MARGIN + k * (width + 0.02), width=width, below_points=4), *view)
    page.rows(content.outline)
    page.heading("Signature features (pyradiomics, paper section 2.3)")
    _table(page, content.feature_header, content.feature_rows)
    page.heading(f"Warnings ({len(content.warnings)})")
    for warning in content.warnings or ("None.",):
        if page.lines_left() < 4:
            page = new_page()
        page.text(f"- {warning}")
    if page.lines_left() < 16:
        page = new_page()
    page.heading("Where the model's numbers come from")
    page.text(content.provenance)
    page.advance(4)
    page.text(f"Paper: {content.citation}")

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": content.title, "Creator": "ALKRadiomics"}) as pdf:
        for number, page in enumerate(pages, start=1):
            _footer(page, content, number, len(pages))
            pdf.savefig(page.figure)
            plt.close(page.figure)
    return buffer.getvalue()


FOOTER_CASE_CHARACTERS = 40


def _footer(page: _Page, content: ReportContent, number: int, pages: int) -> None:
    """Case, research-use state and page number at the foot of every page."""
    if page.y < FOOTER:
        raise RuntimeError(f"report page {number} overflows its bottom margin")  # a layout bug, caught by the tests
    state = content.banner or "validated per the model file's record"
    case = content.case_id if len(content.case_id) <= FOOTER_CASE_CHARACTERS else \
        content.case_id[:FOOTER_CASE_CHARACTERS - 3] + "..."  # page 1 shows it at length
    page.figure.text(MARGIN, FOOTER * 0.5, f"Case {case} - {state}", fontsize=7, color="#555555", va="bottom")
    page.figure.text(1 - MARGIN, FOOTER * 0.5, f"page {number} of {pages}", fontsize=7, color="#555555",
                     ha="right", va="bottom")


def _banner(page: _Page, text: str) -> None:
    from matplotlib.patches import Rectangle

    bottom = page.advance(26)
    page.figure.add_artist(Rectangle((MARGIN, bottom), 1 - 2 * MARGIN, 22 / 72 / PAGE[1],
                                     transform=page.figure.transFigure, facecolor="#b00020", edgecolor="none"))
    page.figure.text(0.5, bottom + 11 / 72 / PAGE[1], text, color="white", fontsize=13, weight="bold",
                     ha="center", va="center")
    page.advance(6)


def _table(page: _Page, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
    """Left column left-aligned, numbers right-aligned at each column's right edge, inside the margins."""
    rights = [MARGIN + 0.36, MARGIN + 0.47, MARGIN + 0.59, MARGIN + 0.73, 1 - MARGIN]
    page.advance(8 * 1.45)
    page.figure.text(MARGIN, page.y, header[0], fontsize=7.5, weight="bold", va="bottom")
    for x, title in zip(rights, header[1:], strict=True):
        page.figure.text(x, page.y, title, fontsize=7.5, weight="bold", va="bottom", ha="right")
    for row in rows:
        page.advance(8 * 1.45)
        page.figure.text(MARGIN, page.y, row[0], fontsize=8, va="bottom")
        for x, cell in zip(rights, row[1:], strict=True):
            page.figure.text(x, page.y, cell, fontsize=8, va="bottom", ha="right")


def write_pdf(path: str | Path, content: ReportContent, image: sitk.Image, mask: sitk.Image, label: int) -> Path:
    return write_bytes_atomic(path, render_pdf(content, image, mask, label))
