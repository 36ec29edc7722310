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


class _Page:
    """A figure with a cursor moving down the page."""

    def __init__(self, plt):
        self.figure = plt.figure(figsize=PAGE)
        self.y = 1 - MARGIN * 0.6

    def advance(self, points: float) -> float:
        self.y -= points / 72 / PAGE[1]
        return self.y

    def text(self, text: str, size: float = 8, weight: str = "normal", colour: str = "black", x: float = MARGIN):
        for line in textwrap.wrap(text, WRAP * 8 // int(size)) or [""]:
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
    """The report as PDF bytes (page 1: identity, images, scores; page 2: features, warnings, provenance)."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": content.title, "Creator": "ALKRadiomics"}) as pdf:
        first = _Page(plt)
        if content.banner:
            _banner(first, content.banner)
        first.text(content.title, size=13, weight="bold")
        first.rows(content.identification)
        first.heading("The nodule (lung window, outline in yellow)")
        width = (1 - 2 * MARGIN - 0.04) / 3
        bottom_y = first.y
        for k, view in enumerate(nodule_views(image, mask, label)):
            first.y = bottom_y
            draw_view(first.axes(150, left=MARGIN + k * (width + 0.02), width=width, below_points=4), *view)
        first.rows(content.outline)
        first.heading("ALK rearrangement")
        draw_probability_scale(first.axes(26), *content.alk_scale)
        if content.combined_scale:
            draw_probability_scale(first.axes(26), *content.combined_scale)
        first.rows(content.alk)
        first.heading("Disease-free survival if ALK-positive (RAD-risk)")
        first.rows(content.dfs)
        if content.banner:
            first.advance(8)
            first.text(f"{content.banner}.", size=9, weight="bold", colour="#b00020")
        pdf.savefig(first.figure)
        plt.close(first.figure)

        second = _Page(plt)
        if content.banner:
            _banner(second, content.banner)
        second.heading("Signature features (pyradiomics, paper section 2.3)")
        _table(second, content.feature_header, content.feature_rows)
        second.heading(f"Warnings ({len(content.warnings)})")
        for warning in content.warnings or ("None.",):
            second.text(f"- {warning}")
        second.heading("Where the model's numbers come from")
        second.text(content.provenance)
        second.advance(4)
        second.text(f"Paper: {content.citation}")
        pdf.savefig(second.figure)
        plt.close(second.figure)
    return buffer.getvalue()


def _banner(page: _Page, text: str) -> None:
    from matplotlib.patches import Rectangle

    bottom = page.advance(26)
    page.figure.add_artist(Rectangle((MARGIN, bottom), 1 - 2 * MARGIN, 22 / 72 / PAGE[1],
                                     transform=page.figure.transFigure, facecolor="#b00020", edgecolor="none"))
    page.figure.text(0.5, bottom + 11 / 72 / PAGE[1], text, color="white", fontsize=13, weight="bold",
                     ha="center", va="center")
    page.advance(6)


def _table(page: _Page, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
    columns = [MARGIN, MARGIN + 0.32, MARGIN + 0.42, MARGIN + 0.50, MARGIN + 0.66, MARGIN + 0.80]
    page.advance(8 * 1.45)
    for x, title in zip(columns, header, strict=True):
        page.figure.text(x, page.y, title, fontsize=7.5, weight="bold", va="bottom")
    for row in rows:
        page.advance(8 * 1.45)
        for x, cell in zip(columns, row, strict=True):
            page.figure.text(x, page.y, cell, fontsize=8, va="bottom")


def write_pdf(path: str | Path, content: ReportContent, image: sitk.Image, mask: sitk.Image, label: int) -> Path:
    return write_bytes_atomic(path, render_pdf(content, image, mask, label))
