"""The output formats a report can be rendered in: each renderer registers itself here, and
request validation (its ``format`` enum), the HTTP responders and the OpenAPI document all
read this one registry, so a new format is one module under ``render/``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.report.result import Result


@dataclass(frozen=True)
class Renderer:
    """``chunks(result, envelope)``: the body as a stream of chunks (``envelope``: the
    Crossbar fields around a JSON answer); ``headers(result)``: the headers beyond
    ``Content-Type``; ``description``: what the body holds (for the OpenAPI document)."""

    name: str  # the value of ``format``
    media_type: str  # the Content-Type's type/subtype, also accepted in ``Accept``
    charset: str | None
    chunks: Callable[[Result, dict[str, Any]], Iterator[bytes]]
    headers: Callable[[Result], dict[str, str]]
    description: str

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset={self.charset}" if self.charset else self.media_type


RENDERERS: dict[str, Renderer] = {}


def register(renderer: Renderer) -> Renderer:
    RENDERERS[renderer.name] = renderer
    return renderer
