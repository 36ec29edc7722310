"""The report as one self-contained HTML file (images inline), same content as the PDF."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import SimpleITK as sitk

from ..atomic import write_text_atomic
from .content import ReportContent
from .figures import probability_png, views_png

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; max-width: 60em; margin: 1.5em auto; color: #111; }
.banner { background: #b00020; color: white; font-weight: bold; font-size: 1.3em; text-align: center;
          padding: 0.5em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; color: #08306b; margin-top: 1.4em; }
table { border-collapse: collapse; } td, th { padding: 0.15em 0.8em 0.15em 0; vertical-align: top; text-align: left; }
th { font-weight: bold; } img { max-width: 100%; }
.headline { color: #b00020; font-weight: bold; border: 2px solid #b00020; padding: 0.5em; }
"""


def _rows(rows) -> str:
    return "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows) \
        + "</table>"


def _image(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def render_html(content: ReportContent, image: sitk.Image, mask: sitk.Image, label: int) -> str:
    banner = f'<div class="banner">{html.escape(content.banner)}</div>' if content.banner else ""
    scales = _image(probability_png(*content.alk_scale), content.alk_scale[2])
    if content.combined_scale:
        scales += _image(probability_png(*content.combined_scale), content.combined_scale[2])
    headline = f'<p class="headline">{html.escape(content.headline)}</p>' if content.headline else ""
    header = "".join(f"<th>{html.escape(h)}</th>" for h in content.feature_header)
    features = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in content.feature_rows)
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in content.warnings) or "<li>None.</li>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(content.title)}</title>
<style>{_STYLE}</style></head><body>
{banner}
<h1>{html.escape(content.title)}</h1>
{headline}
{_rows(content.verdict)}
{_rows(content.identification)}
<h2>ALK rearrangement</h2>
{scales}
{_rows(content.alk)}
<h2>Disease-free survival if ALK-positive (RAD-risk)</h2>
{_rows(content.dfs)}
<h2>The nodule (lung window, outline in yellow)</h2>
{_image(views_png(image, mask, label), "axial, coronal and sagittal views with the outline")}
{_rows(content.outline)}
<h2>Signature features (pyradiomics, paper section 2.3)</h2>
<table><tr>{header}</tr>{features}</table>
<h2>Warnings ({len(content.warnings)})</h2>
<ul>{warnings}</ul>
<h2>Where the model's numbers come from</h2>
<p>{html.escape(content.provenance)}</p>
<p>Paper: {html.escape(content.citation)}</p>
{banner}
</body></html>
"""


def write_html(path: str | Path, content: ReportContent, image: sitk.Image, mask: sitk.Image, label: int) -> Path:
    return write_text_atomic(path, render_html(content, image, mask, label))
