"""Where to sign in the first time, at the end of `make run`'s start-up output and again on demand.

The first password is kept in FIRST_LOGIN_FILE (owner-only) rather than printed: printed, it
scrolled away among the install and access log lines, and stayed in whatever kept the terminal's
output. The file goes once the password has been changed, so it never holds a stale password.
"""

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

FIRST_USERNAME = "admin"


def keep_password(path: Path, password: str) -> None:
    """Writes the password to `path`, readable and writable by its owner only (0600, in a 0700 folder)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file left by an older run may have had a wider mode
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")


def kept_password(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def shown_path(path: Path) -> str:
    """The file as the person can type it from where they ran the command."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = (
        "Say where to sign in first. On a database with no users, create the superuser 'admin' with a "
        "random password kept in FIRST_LOGIN_FILE (owner-only); run again, say the same while that "
        "password is unchanged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("PORT") or "8000"
        parser.add_argument("--url", default=f"http://127.0.0.1:{port}", help="where the portal is served")

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        User = get_user_model()
        path: Path = settings.FIRST_LOGIN_FILE
        sign_in = f"{url.rstrip('/')}/accounts/login/"
        if not User.objects.exists():
            first_password = secrets.token_urlsafe(12)
            keep_password(path, first_password)
            User.objects.create_superuser(FIRST_USERNAME, "", first_password)
        password = kept_password(path)
        admin = User.objects.filter(username=FIRST_USERNAME).first()
        if password and admin is not None and admin.check_password(password):
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nSign in at  {sign_in}\n"
                    f"  user:      {FIRST_USERNAME}\n"
                    f"  password:  in {shown_path(path)} (readable by you only): cat {shown_path(path)}\n"
                    f"Change it at {url.rstrip('/')}/accounts/password_change/ (or with manage.py "
                    f"changepassword {FIRST_USERNAME}); this file then goes at the next start.\n"
                    "Show this again: .venv/bin/python manage.py offer_first_login\n"
                )
            )
            return
        if password:
            # Changed (or its user deleted): a password that signs nobody in is not worth keeping.
            path.unlink()
        self.stdout.write(
            f"\nSign in at  {sign_in}\n"
            "No first password is kept: it has been changed, or the users were made another way.\n"
            "A forgotten password: .venv/bin/python manage.py changepassword <username>\n"
        )
