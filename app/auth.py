"""Who may read which account. One small interface, so the schemes can change behind it.

``authenticate`` turns a presented token into the account it speaks for (or 401);
``authorize`` decides whether that account may read the requested one (or 403).
"""

from __future__ import annotations

import hmac
from typing import Protocol

from app import errors


class Authenticator(Protocol):
    async def authenticate(self, token: str | None) -> str:
        """The account id the token speaks for; raises a 401 ApiError otherwise."""
        ...

    async def authorize(self, principal: str, account_id: str) -> None:
        """Raises a 403 ApiError unless ``principal`` may read ``account_id``."""
        ...


class StaticTokens:
    """``QUBICLE_REPORTS_TOKENS="token1=ACCOUNT_ID,..."``: each token reads its own account."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(t.encode(), account) for t, account in tokens.items()]

    async def authenticate(self, token: str | None) -> str:
        if not token:
            raise errors.unauthorized()
        presented = token.encode()
        found: str | None = None
        for known, account in self._tokens:  # compare with every token: constant time
            if hmac.compare_digest(known, presented):
                found = account
        if found is None:
            raise errors.unauthorized()
        return found

    async def authorize(self, principal: str, account_id: str) -> None:
        if not hmac.compare_digest(principal.encode(), account_id.encode()):
            raise errors.forbidden()
