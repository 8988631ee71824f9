"""qubicle-reports: KAZOO's Qubicle Crossbar Reporting API over CouchDB views."""

# the release: said here only (pyproject reads it); each release has its own, and its design
# doc a name of its own (app.couch.design_docs), both shown by --version, /health and /metrics
__version__ = "0.2.0"
