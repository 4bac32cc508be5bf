"""Encryption at rest for secrets AIMS stores (connection tokens, webhook secrets)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key (the keys were changed without rotation)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"AIMS_ENCRYPTION_KEYS: each key must be 32 url-safe base64 bytes ({exc})") from exc


def encrypt_secret(plaintext: str) -> str:
    """Encrypt with the newest key; the token is ASCII and safe to store in a text column."""
    return _fernet(tuple(settings.AIMS_ENCRYPTION_KEYS)).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    """Decrypt with whichever configured key made the token."""
    try:
        return _fernet(tuple(settings.AIMS_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError("stored secret cannot be decrypted with AIMS_ENCRYPTION_KEYS") from exc
