"""Encryption of secrets at rest: a text field stored as a Fernet token.

The keys are settings.FIELD_ENCRYPTION_KEYS, newest first: the newest encrypts, every one of them
decrypts, so a new key can be put in front while values written with the old ones still read.
`manage.py rotate_encryption_key` re-encrypts everything with a new key.
"""

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

# What an operator reads when the keys cannot decrypt what is stored: the start-up check, the
# rotation command and the process log all say it in these words.
KEYS_CANNOT_DECRYPT = (
    "FIELD_ENCRYPTION_KEYS cannot decrypt the webhook secrets stored in the database: put the key "
    "they were encrypted with back in the list (newest first), then run manage.py rotate_encryption_key."
)
# How dumpdata writes an encrypted value and loaddata recognises one: the token, so a JSON backup
# reveals no more than a copy of the database. No plain secret starts so (new_secret's alphabet
# has no colon).
SERIALIZED_PREFIX = "fernet:"


class DecryptionFailed(Exception):
    def __init__(self) -> None:
        super().__init__(KEYS_CANNOT_DECRYPT)


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
        raise DecryptionFailed() from None


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

    def value_to_string(self, obj: models.Model) -> Any:
        # What Django's serializers (dumpdata) write: encrypted, and marked for to_python.
        value = self.value_from_object(obj)
        return None if value is None else SERIALIZED_PREFIX + encrypt(str(value))

    def to_python(self, value: Any) -> Any:
        # What Django's deserializers (loaddata) read: a marked token is decrypted here and
        # encrypted again on save; an unmarked value (a backup from before) is taken as plain.
        value = super().to_python(value)
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            return decrypt(value.removeprefix(SERIALIZED_PREFIX))
        return value


def encrypted_columns() -> Iterator[tuple[str, str, str]]:
    """(table, primary key column, column) of every EncryptedTextField."""
    for model in apps.get_models():
        pk = model._meta.pk
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField) and field.column and pk is not None and pk.column:
                yield model._meta.db_table, pk.column, field.column


def stored_tokens(
    connection: BaseDatabaseWrapper, limit: int | None = None
) -> Iterator[tuple[str, str, str, Any, str]]:
    """(table, primary key column, column, primary key, token) of each stored encrypted value.

    Raw rows, tokens as stored: the ORM would hand back the decrypted text, or fail on a value it
    cannot decrypt. At most `limit` of each column when given.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, pk, column in encrypted_columns():
            sql = f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL"
            cursor.execute(f"{sql} ORDER BY {quote(pk)}" + (f" LIMIT {int(limit)}" if limit is not None else ""))
            for row_pk, token in cursor.fetchall():
                yield table, pk, column, row_pk, token


def undecryptable_count(connection: BaseDatabaseWrapper, limit: int | None = None) -> int:
    """How many stored values (of at most `limit` per column) FIELD_ENCRYPTION_KEYS cannot decrypt."""
    keys = fernet()
    count = 0
    for *_, token in stored_tokens(connection, limit):
        try:
            keys.decrypt(token.encode())
        except InvalidToken:
            count += 1
    return count
