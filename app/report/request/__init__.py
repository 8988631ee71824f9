"""The report request: its building blocks (:mod:`.types`), its days (:mod:`.dates`), the
models per report (:mod:`.models`) and the check that turns parameters into a
:class:`ReportRequest` (:mod:`.validate`). Pure: no I/O."""

from app.report.formats import FORMATS
from app.report.request.dates import MAX_DATE, MIN_DATE, time_zones
from app.report.request.models import Limits, RequestModels, request_models
from app.report.request.types import ID_RE, split_list
from app.report.request.validate import (
    KEYWORDS,
    RecordRequest,
    ReportRequest,
    from_query,
    validate,
    validate_ids,
)

__all__ = [
    "FORMATS",
    "ID_RE",
    "KEYWORDS",
    "MAX_DATE",
    "MIN_DATE",
    "Limits",
    "RecordRequest",
    "ReportRequest",
    "RequestModels",
    "from_query",
    "request_models",
    "split_list",
    "time_zones",
    "validate",
    "validate_ids",
]
