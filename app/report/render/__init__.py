"""Output formats: separate renderers over one :class:`app.report.result.Result` (as Datasette
does), each registering itself in :data:`RENDERERS` when its module is imported here."""

from app.report.formats import DEFAULT_FORMAT, FORMATS
from app.report.render import csv as _csv  # noqa: F401  (registers "csv")
from app.report.render import json as _json  # noqa: F401  (registers "json")
from app.report.render.csv import csv_filename, iter_csv
from app.report.render.json import iter_json, render_json
from app.report.render.registry import RENDERERS, Renderer

if set(FORMATS) != RENDERERS.keys():
    raise RuntimeError("every format named in app.report.formats needs its renderer here")

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "RENDERERS",
    "Renderer",
    "csv_filename",
    "iter_csv",
    "iter_json",
    "render_json",
]
