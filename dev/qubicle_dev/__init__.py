"""Development tooling of qubicle-reports: demo data, the demo, the CouchDB stand-in's
launcher and a loopback replay server for benchmarks. Installed by ``make install`` next to
the service (``pip install -e dev``); the service's wheel carries none of it, and the service
never imports it."""

try:
    import app.cli  # noqa: F401  (the service, from the same checkout)
except ImportError as e:  # pragma: no cover - a lone `pip install ./dev`
    raise ImportError(
        "qubicle_dev needs the service installed beside it from the same checkout: "
        "pip install -e . -e ./dev (or make install)"
    ) from e
