import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from aimsweb.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret


def test_crypto_round_trip_hides_plaintext():
    token = encrypt_secret("dapi0123456789abcdef")

    assert "dapi" not in token
    assert decrypt_secret(token) == "dapi0123456789abcdef"


def test_crypto_rotation_old_key_still_decrypts(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.AIMS_ENCRYPTION_KEYS = [old]
    token = encrypt_secret("client-secret")

    settings.AIMS_ENCRYPTION_KEYS = [new, old]

    assert decrypt_secret(token) == "client-secret"


def test_crypto_unknown_key_clear_error(settings):
    settings.AIMS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = encrypt_secret("client-secret")
    settings.AIMS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(SecretDecryptionError, match="AIMS_ENCRYPTION_KEYS"):
        decrypt_secret(token)


def test_crypto_malformed_key_names_setting(settings):
    settings.AIMS_ENCRYPTION_KEYS = ["not-a-key"]

    with pytest.raises(ImproperlyConfigured, match="AIMS_ENCRYPTION_KEYS"):
        encrypt_secret("x")
