"""The service's own OpenAPI 3 description, served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any


def spec() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "qubicle-reports", "version": "0.1.0"},
        "paths": {},
    }
