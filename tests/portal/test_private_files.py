"""var/, the generated credentials and the SQLite database are readable by their owner only."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
OLD_NAMES = ("SECRET_KEY", "AUTOQL_SANDBOX_API_KEY", "AUTOQL_PRODUCTION_API_KEY", "AUTOQL_TOKEN")


def clean_environment(**extra: str) -> dict[str, str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in (*settings.GENERATED_NAMES, "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    return {**environment, **extra}


def settings_copy(tmp_path: Path) -> Path:
    """The settings module alone, in a folder of its own, so it makes its var/ there."""
    shutil.copytree(ROOT / "portal", tmp_path / "portal", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def load_settings(project: Path, name: str) -> str:
    code = f"import portal.settings as s; print(s.{name})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=clean_environment(PYTHONPATH=str(project)),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_fresh_start_makes_everything_owner_only(tmp_path):
    project = settings_copy(tmp_path)
    key = load_settings(project, "FIELD_ENCRYPTION_KEYS[0]")

    var = project / "var"
    assert mode(var) == 0o700
    assert mode(var / "generated.env") == 0o600
    assert mode(var / "db.sqlite3") == 0o600
    Fernet(key)  # a valid Fernet key, or this raises
    names = [line.split("=")[0] for line in (var / "generated.env").read_text().splitlines() if "=" in line]
    assert names == list(settings.GENERATED_NAMES)


def test_a_name_missing_from_an_existing_file_is_appended_and_modes_are_tightened(tmp_path):
    project = settings_copy(tmp_path)
    var = project / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    generated = var / "generated.env"
    old_lines = [f"{name}=old-{name.lower()}" for name in OLD_NAMES]
    generated.write_text("# from an older version\n" + "\n".join(old_lines))  # no final newline
    generated.chmod(0o644)
    (var / "db.sqlite3").write_bytes(b"")
    (var / "db.sqlite3").chmod(0o644)

    assert load_settings(project, "AUTOQL_TOKEN") == "old-autoql_token"
    lines = generated.read_text().splitlines()
    assert lines[: len(old_lines) + 1] == ["# from an older version", *old_lines]
    [added] = lines[len(old_lines) + 1 :]
    assert added.startswith("FIELD_ENCRYPTION_KEYS=")
    Fernet(added.removeprefix("FIELD_ENCRYPTION_KEYS="))
    assert (mode(var), mode(generated), mode(var / "db.sqlite3")) == (0o700, 0o600, 0o600)

    # Read again, the file is kept as it is.
    load_settings(project, "AUTOQL_TOKEN")
    assert generated.read_text().splitlines() == lines


def test_the_migrated_sqlite_database_is_owner_only(tmp_path):
    database = tmp_path / "migrated.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=clean_environment(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="portal.settings"),
        check=True,
        capture_output=True,
    )
    assert database.stat().st_size > 0
    assert mode(database) == 0o600


def test_the_projects_own_var_folder_is_owner_only():
    assert mode(Path(settings.VAR_DIR)) == 0o700
    assert mode(Path(settings.GENERATED_ENV_FILE)) == 0o600
