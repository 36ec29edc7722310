"""Spreadsheet-safe CSV cells (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula: a cohort id ``=HYPERLINK(...)`` written into a features CSV runs when a
researcher opens it. As OWASP recommends, such text cells are prefixed with a single quote,
which spreadsheets show as text. Numbers are never text here (they are written with ``repr``),
so a negative feature value stays a number.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def original_text(cell: str) -> str:
    """The text before :func:`spreadsheet_safe` (for reading our own CSVs back, e.g. ids to join on)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
