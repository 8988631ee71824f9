"""Development tooling of qubicle-reports: demo data, the demo, the CouchDB stand-in's
launcher and a loopback replay server for benchmarks. Installed by ``make install`` next to
the service (``pip install -e dev``); the service's wheel carries none of it, and the service
never imports it."""
