"""The record reports (CONTRACT.md 8): documents and status events as rows (:mod:`.docs`,
:mod:`.intervals`), read from the aggregates' views (:mod:`.read`) and written out as a JSON
page or CSV (:mod:`.render`). What each report lists and its ``start_key`` live beside the
request (:mod:`app.report.record_kinds`, :mod:`app.report.start_key`), which names them."""
