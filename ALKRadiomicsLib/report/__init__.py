"""Per-case reports: PDF for the tumour board, HTML, and DICOM SR / SEG for PACS (issue 6).

Needs the ``[report]`` extra (matplotlib; pydicom and highdicom for DICOM).
"""

from .content import BANNER, ReportContent, report_content
from .html import render_html, write_html
from .pdf import render_pdf, write_pdf

__all__ = ["BANNER", "ReportContent", "render_html", "render_pdf", "report_content", "write_html", "write_pdf"]
