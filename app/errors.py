"""Crossbar's error shapes (CONTRACT.md section 5): the one catalogue of every error the
service answers, as exceptions the HTTP layer renders and as what its OpenAPI document says.

Each :class:`Kind` is one (status, ``message``) pair with the JSON Schema of its ``data`` and
the headers it sends; :data:`CATALOGUE` lists them all, and :mod:`app.web.openapi` documents
every status a route can answer from it. A lower shared module: no layer's code in here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]


class ApiError(Exception):
    """An error the client sees: HTTP status, Crossbar ``message`` and ``data``."""

    def __init__(
        self,
        status: int,
        message: str,
        data: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data
        self.headers = headers or {}  # sent with the error (e.g. Retry-After)

    def body(self, request_id: str, auth_token: str) -> dict[str, Any]:
        """Crossbar's error envelope."""
        return {
            "data": self.data,
            "error": str(self.status),
            "message": self.message,
            "status": "error",
            "request_id": request_id,
            "auth_token": auth_token,
        }


def _closed(properties: Schema, required: list[str] | None = None) -> Schema:
    """A JSON Schema object with exactly these properties (``required``: all by default)."""
    listed = list(properties) if required is None else required
    return {
        "type": "object",
        "properties": properties,
        "required": listed,
        "additionalProperties": False,
    }


TEXT: Schema = {"type": "string"}


def _message(*values: str) -> Schema:
    return _closed({"message": {"type": "string", "enum": list(values)} if values else TEXT})


@dataclass(frozen=True)
class Kind:
    """One error the service answers: its status, Crossbar ``message``, what it means (for
    the OpenAPI document), its ``data`` (``text``: always ``{"message": text}``; else
    ``schema``: its JSON Schema, by default any ``{"message": ...}``) and its headers."""

    status: int
    message: str
    description: str
    text: str | None = None
    schema: Schema | None = None
    headers: dict[str, Schema] = field(default_factory=dict)

    @property
    def data(self) -> Schema:
        """The JSON Schema of ``data``."""
        if self.schema is not None:
            return self.schema
        return _message(self.text) if self.text is not None else _message()

    def __call__(
        self, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> ApiError:
        """The error, with ``data`` (default: ``{"message": text}``)."""
        return ApiError(self.status, self.message, data or {"message": self.text}, headers)


# ``data`` of a validation error: field -> keyword -> detail; the fields a route validates
# are listed by the OpenAPI document (components/schemas/ValidationErrors)
VALIDATION_ERRORS_REF: Schema = {"$ref": "#/components/schemas/ValidationErrors"}
RETRY_AFTER: Schema = {
    "description": "seconds until the index is likely built",
    "schema": {"type": "integer", "minimum": 0},
}
RETRY_AFTER_BUSY: Schema = {
    "description": "seconds after which a retry is likely to find a slot",
    "schema": {"type": "integer", "minimum": 1},
}

INVALID_JSON = Kind(
    400,
    "invalid request",
    "`invalid request`: the body is not JSON (`json` names it), or aiohttp's parser rejected "
    "the request (`message` says why)",
    schema={"anyOf": [VALIDATION_ERRORS_REF, _message()]},
)
VALIDATION = Kind(
    400,
    "validation error",
    '`validation error`: bad fields, every one of them at once (or a body not `{"data": {...}}`)',
    schema=VALIDATION_ERRORS_REF,
)
UNAUTHORIZED = Kind(
    401, "invalid_credentials", "No token, or not a valid one", "invalid credentials"
)
FORBIDDEN = Kind(
    403,
    "forbidden",
    "The token's account may not read this account (or it does not exist)",
    "forbidden",
)
BAD_IDENTIFIER = Kind(
    404,
    "bad_identifier",
    "`bad_identifier`: the account id is not 32 lowercase hex digits",
    schema=_closed({"message": {"type": "string", "enum": ["bad identifier"]}, "cause": TEXT}),
)
NOT_FOUND = Kind(404, "not_found", "`not_found`: no such route or file", "not found")
METHOD_NOT_ALLOWED = Kind(
    405, "method not allowed", "Another HTTP method on this path", "not allowed"
)
TOO_LARGE = Kind(
    413,
    "request too large",
    "The body is larger than QUBICLE_REPORTS_MAX_BODY_BYTES (64 KiB by default)",
)
REQUEST_TIMEOUT = Kind(
    408,
    "request timeout",
    "The body did not arrive within QUBICLE_REPORTS_BODY_TIMEOUT seconds (10 by default); "
    "the connection is closed",
    "the request body did not arrive in time",
)
INTERNAL = Kind(
    500,
    "internal error",
    "An unexpected failure (logged with the request id; no details are returned)",
    "internal error",
)
DATASTORE = Kind(
    503,
    "datastore fatal error",
    "`datastore fatal error`: CouchDB unreachable, failing or too slow",
)
TOO_BUSY = Kind(
    503,
    "too busy",
    "`too busy`: too many reports in progress (the account's own share of the report slots, "
    "QUBICLE_REPORTS_ACCOUNT_REPORTS, or all of them), retry after `Retry-After` seconds",
    "too many reports in progress, retry shortly",
    headers={"Retry-After": RETRY_AFTER_BUSY},
)
INDEX_BUILDING = Kind(
    503,
    "index being built",
    "`index being built`: CouchDB is building the index of a month the report reads; the "
    "build goes on, retry after `Retry-After` seconds",
    schema=_closed(
        {
            "message": TEXT,
            "month": {"type": "string", "description": "`YYYY-MM`, or `unknown month`"},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100, "nullable": True},
            "retry_after": {"type": "integer", "minimum": 0},
        }
    ),
    headers={"Retry-After": RETRY_AFTER},
)

CATALOGUE: tuple[Kind, ...] = (
    INVALID_JSON,
    VALIDATION,
    UNAUTHORIZED,
    FORBIDDEN,
    BAD_IDENTIFIER,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    TOO_LARGE,
    REQUEST_TIMEOUT,
    INTERNAL,
    DATASTORE,
    TOO_BUSY,
    INDEX_BUILDING,
)


BAD_JSON = {"json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}}


def invalid_json() -> ApiError:
    """The body is not JSON."""
    return INVALID_JSON(BAD_JSON)


def not_an_envelope() -> ApiError:
    """JSON, but not Crossbar's ``{"data": {...}}``."""
    return VALIDATION(BAD_JSON)


def malformed(status: int, reason: str) -> ApiError:
    """What aiohttp's parser rejected (:mod:`app.web.rejected`): never the request's bytes."""
    return ApiError(status, INVALID_JSON.message, {"message": reason})


def validation(errors: dict[str, dict[str, dict[str, Any]]]) -> ApiError:
    return VALIDATION(errors)


def invalid(field_name: str, keyword: str, message: str, **detail: Any) -> ApiError:
    """A validation error naming one field: ``{field: {keyword: {message, **detail}}}``."""
    return VALIDATION({field_name: {keyword: {"message": message, **detail}}})


def unauthorized() -> ApiError:
    return UNAUTHORIZED()


def forbidden() -> ApiError:
    return FORBIDDEN()


def bad_identifier(cause: str) -> ApiError:
    return BAD_IDENTIFIER({"message": "bad identifier", "cause": cause})


def not_found() -> ApiError:
    return NOT_FOUND()


def datastore(message: str) -> ApiError:
    return DATASTORE({"message": message})


def too_busy(retry_after: int) -> ApiError:
    return TOO_BUSY(headers={"Retry-After": str(max(1, retry_after))})


def too_large(text: str) -> ApiError:
    return TOO_LARGE({"message": text})


def method_not_allowed() -> ApiError:
    return METHOD_NOT_ALLOWED()


def request_timeout() -> ApiError:
    return REQUEST_TIMEOUT()


def too_deep(field_name: str, limit: int) -> ApiError:
    """A value nested deeper than any parameter is: named, never echoed (it may not even
    be renderable)."""
    if field_name == "":
        return VALIDATION(BAD_JSON)
    return invalid(
        field_name,
        "type",
        f"Value nested more than {limit} levels deep",
        target=f"at most {limit} levels of lists and objects",
    )


def internal() -> ApiError:
    return INTERNAL()


def index_being_built(month: str, progress: int | None, retry_after: int) -> ApiError:
    """503 with ``Retry-After``: CouchDB is building an index the report needs."""
    done = "progress unknown" if progress is None else f"{progress}% done"
    data = {
        "message": f"CouchDB is building the report index for {month} ({done}); "
        f"the build goes on, retry in about {retry_after} s",
        "month": month,
        "progress": progress,
        "retry_after": retry_after,
    }
    return INDEX_BUILDING(data, {"Retry-After": str(retry_after)})
