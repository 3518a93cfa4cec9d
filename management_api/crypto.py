"""Encryption of secrets at rest: a text field stored as a Fernet token.

The keys are settings.FIELD_ENCRYPTION_KEYS, newest first: the newest encrypts, every one of them
decrypts, so a new key can be put in front while values written with the old ones still read.
`manage.py rotate_encryption_key` re-encrypts everything with a new key.
"""

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionFailed(Exception):
    pass


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty; it needs at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        # The message names no key: it would end up in a log.
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from None


def fernet(keys: list[str] | None = None) -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS if keys is None else keys))


def new_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed(
            "A stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS; is a key missing from the list?"
        ) from None


class EncryptedTextField(models.TextField):
    """Text encrypted before it reaches the database and decrypted when read back.

    Every encryption is different (random IV), so the value can never be searched: only
    `isnull` is allowed as a lookup, and any other raises FieldError rather than match nothing.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
