"""The credentials of the two environments and of the portal, read from the settings in one place.

Here, at the project level, because both sides need the same map: the portal's client sends the
environment's key, and the embedded API checks it. The portal never imports management_api, and
the API should not depend on the portal's app, so neither app is the right home.

The settings only read them (from the environment, or var/generated.env); `generate_missing`
writes that file, through `manage.py generate_credentials`, which `make run` calls.
"""

import fcntl
import os
import re
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

from portal import environments


def api_key_name(environment: str) -> str:
    """The setting that holds an environment's API key, e.g. AUTOQL_SANDBOX_API_KEY."""
    return f"AUTOQL_{environment.upper()}_API_KEY"


def generated_names() -> tuple[str, ...]:
    """Whatever of these is unset is generated once into var/generated.env."""
    keys = tuple(api_key_name(environment) for environment in environments.values())
    return ("SECRET_KEY", *keys, "AUTOQL_TOKEN", "FIELD_ENCRYPTION_KEYS")


def api_keys() -> dict[str, str]:
    """Each environment's configured API key (the `key` query parameter of every call)."""
    return {environment: getattr(settings, api_key_name(environment), "") for environment in environments.values()}


def new_credential(name: str) -> str:
    if name == "FIELD_ENCRYPTION_KEYS":
        return Fernet.generate_key().decode()
    # 50 bytes: Django's deploy check wants a SECRET_KEY of at least 50 characters.
    return secrets.token_urlsafe(50)


def generate_missing(path: Path, environment: dict[str, str] | None = None) -> list[str]:
    """Append to `path` every credential neither the environment nor the file has; the names added.

    The file and its folder are made owner-only (0600, 0700), tightening what an older version
    left. Two processes running this at once (a web server and a worker) add each name once.
    """
    environment = dict(os.environ) if environment is None else environment
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        text = f.read()
        present = set(re.findall(r"^([A-Z_]+)=", text, re.M)) | {n for n in generated_names() if environment.get(n)}
        missing = [name for name in generated_names() if name not in present]
        if not missing:
            return []
        if not text:
            f.write("# Generated once by `manage.py generate_credentials`; delete it to generate new credentials.\n")
        elif not text.endswith("\n"):
            f.write("\n")
        f.writelines(f"{name}={new_credential(name)}\n" for name in missing)
    return missing


def check_credentials(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """`manage.py check` (and so migrate and `make run`) stops on a credential nobody set."""
    return [
        Error(
            f"{name} is not set.",
            hint="Run `python manage.py generate_credentials` (make run does) to generate the missing "
            f"credentials into {settings.GENERATED_ENV_FILE}, or set {name} in the environment.",
            id="portal.E001",
        )
        for name in generated_names()
        if not _is_set(name)
    ]


def _is_set(name: str) -> bool:
    try:
        return bool(getattr(settings, name))
    except ImproperlyConfigured:  # Django's own refusal of an empty SECRET_KEY
        return False
