"""Crossbar's error shapes (CONTRACT.md section 5) as exceptions the HTTP layer renders."""

from __future__ import annotations

from typing import Any


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


def invalid_json(message: str = "invalid request") -> ApiError:
    return ApiError(
        400, message, {"json": {"invalid": {"message": "All JSON must be valid", "target": "body"}}}
    )


def validation(errors: dict[str, dict[str, dict[str, Any]]]) -> ApiError:
    return ApiError(400, "validation error", errors)


def unauthorized() -> ApiError:
    return ApiError(401, "invalid_credentials", {"message": "invalid credentials"})


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", {"message": "forbidden"})


def bad_identifier(cause: str) -> ApiError:
    return ApiError(404, "bad_identifier", {"message": "bad identifier", "cause": cause})


def not_found() -> ApiError:
    return ApiError(404, "not_found", {"message": "not found"})


def datastore(message: str) -> ApiError:
    return ApiError(503, "datastore fatal error", {"message": message})


def too_busy() -> ApiError:
    return ApiError(503, "too busy", {"message": "too many reports in progress, retry shortly"})


def too_large(text: str) -> ApiError:
    return ApiError(413, "request too large", {"message": text})


def method_not_allowed() -> ApiError:
    return ApiError(405, "method not allowed", {"message": "not allowed"})


def internal() -> ApiError:
    return ApiError(500, "internal error", {"message": "internal error"})
