"""qubicle-reports: KAZOO's Qubicle Crossbar Reporting API over CouchDB views."""

__version__ = "0.1.0"
