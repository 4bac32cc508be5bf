"""The one error the world's operations raise; each platform API renders it in its own error format."""

from __future__ import annotations


class SimError(Exception):
    """An API-level error; the HTTP layer renders it in the platform's error format."""

    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
