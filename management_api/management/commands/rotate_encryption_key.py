import os
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction

from audit.commands import AuditedCommand
from audit.trail import Action, record
from management_api.crypto import KEYS_CANNOT_DECRYPT, fernet, new_key, stored_tokens, undecryptable_count


class Command(AuditedCommand):
    help = (
        "Encrypt every encrypted value again with a new key. The new key goes in front of "
        "FIELD_ENCRYPTION_KEYS (the old ones stay, to read values written by processes not yet "
        "restarted); var/generated.env is updated when the keys come from there, otherwise the "
        "new list is printed. Restart the web server and the workers afterwards."
    )

    def handle(self, *args, **options) -> None:
        # Before anything is printed or written: the new list would keep the wrong keys, and an
        # operator who set it would lose every secret the missing key encrypted.
        if undecryptable_count(connection):
            raise CommandError(KEYS_CANNOT_DECRYPT)
        keys = [new_key(), *settings.FIELD_ENCRYPTION_KEYS]
        # The new list reads every value, old or re-encrypted, so it is kept before the database
        # changes: a failure half-way leaves nothing unreadable.
        if settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE:
            replace_generated_keys(Path(settings.GENERATED_ENV_FILE), keys)
            self.stdout.write(f"Wrote the new key list to {settings.GENERATED_ENV_FILE}.")
        else:
            self.stdout.write("Set FIELD_ENCRYPTION_KEYS to this list on every node:")
            self.stdout.write(",".join(keys))
        count = reencrypt_everything(keys)
        record(Action.KEYS_ROTATED, detail=f"{count} value(s) encrypted again with a new key")
        self.stdout.write(f"Encrypted {count} value(s) again with the new key. Restart every process now.")


def replace_generated_keys(path: Path, keys: list[str]) -> None:
    text = path.read_text()
    line = f"FIELD_ENCRYPTION_KEYS={','.join(keys)}"
    text, found = re.subn(r"^FIELD_ENCRYPTION_KEYS=.*$", line, text, flags=re.M)
    if not found:
        text = text.rstrip("\n") + "\n" + line + "\n"
    # Written aside and renamed over: a crash mid-write must never lose the keys.
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def reencrypt_everything(keys: list[str]) -> int:
    rotator = fernet(keys)
    quote = connection.ops.quote_name
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for table, pk, column, row_pk, token in stored_tokens(connection):
            rotated = rotator.rotate(token.encode()).decode()
            cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s", [rotated, row_pk])
            count += 1
    return count
