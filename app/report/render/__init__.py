"""Output formats: separate renderers over one :class:`app.merge.Result` (as Datasette does)."""

from app.report.render.csv import csv_filename, iter_csv
from app.report.render.json import iter_json, render_json

__all__ = ["csv_filename", "iter_csv", "iter_json", "render_json"]
