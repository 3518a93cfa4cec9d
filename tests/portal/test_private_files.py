"""var/, the generated credentials and the SQLite database are readable by their owner only."""

from pathlib import Path

from cryptography.fernet import Fernet
from django.core.management import call_command

from portal.credentials import generate_missing, generated_names
from tests.portal.test_settings import manage, project_copy

OLD_NAMES = ("SECRET_KEY", "AUTOQL_SANDBOX_API_KEY", "AUTOQL_PRODUCTION_API_KEY", "AUTOQL_TOKEN")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_generating_makes_everything_owner_only(tmp_path):
    generated = tmp_path / "var" / "generated.env"
    assert generate_missing(generated, environment={}) == list(generated_names())
    assert (mode(tmp_path / "var"), mode(generated)) == (0o700, 0o600)
    values = dict(line.split("=", 1) for line in generated.read_text().splitlines() if "=" in line)
    assert list(values) == list(generated_names())
    Fernet(values["FIELD_ENCRYPTION_KEYS"])  # a valid Fernet key, or this raises


def test_a_name_missing_from_an_existing_file_is_appended_and_modes_are_tightened(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    generated = var / "generated.env"
    old_lines = [f"{name}=old-{name.lower()}" for name in OLD_NAMES]
    generated.write_text("# from an older version\n" + "\n".join(old_lines))  # no final newline
    generated.chmod(0o644)

    assert generate_missing(generated, environment={}) == ["FIELD_ENCRYPTION_KEYS"]
    lines = generated.read_text().splitlines()
    assert lines[: len(old_lines) + 1] == ["# from an older version", *old_lines]
    [added] = lines[len(old_lines) + 1 :]
    Fernet(added.removeprefix("FIELD_ENCRYPTION_KEYS="))
    assert (mode(var), mode(generated)) == (0o700, 0o600)

    # Asked again, the file is kept as it is.
    assert generate_missing(generated, environment={}) == []
    assert generated.read_text().splitlines() == lines


def test_the_migrated_sqlite_database_is_owner_only(tmp_path):
    project = project_copy(tmp_path)
    manage(project, "generate_credentials")
    database = tmp_path / "migrated.sqlite3"
    manage(project, "migrate", "--noinput", "-v0", DATABASE_URL=f"sqlite:///{database}")
    assert database.stat().st_size > 0
    assert mode(database) == 0o600


def test_the_command_writes_where_the_settings_read(settings, tmp_path, capsys):
    settings.GENERATED_ENV_FILE = tmp_path / "private" / "generated.env"
    call_command("generate_credentials")
    assert mode(tmp_path / "private") == 0o700
    # Nothing is generated for what the environment sets (this run's credentials are all set).
    assert settings.GENERATED_ENV_FILE.read_text().count("=") == 0
