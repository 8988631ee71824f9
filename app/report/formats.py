"""The output formats a request may ask for, named once: a leaf, so the request model can
offer them without importing the renderers (which read the result, which reads the request).
Each name has its renderer in :mod:`app.report.render` (checked when that registry loads)."""

DEFAULT_FORMAT = "json"  # Crossbar's
FORMATS = (DEFAULT_FORMAT, "csv")  # the default first
