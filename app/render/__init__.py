"""Output formats: separate renderers over one :class:`app.merge.Result` (as Datasette does)."""

from app.render.csv import csv_filename, iter_csv
from app.render.json import render_json

__all__ = ["csv_filename", "iter_csv", "render_json"]
