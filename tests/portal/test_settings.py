"""Settings: importing them only reads; credentials generated once by a command and kept; the
environment wins; .env.example is complete."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from portal.credentials import generated_names

ROOT = Path(settings.BASE_DIR)


def clean_environment(**extra: str) -> dict[str, str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in (*generated_names(), "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    return {**environment, "DJANGO_SETTINGS_MODULE": "portal.settings", **extra}


def project_copy(tmp_path: Path) -> Path:
    """The project's code alone, in a folder of its own, without a var/."""
    for name in ("manage.py",):
        shutil.copy(ROOT / name, tmp_path / name)
    # Every app of the project (a folder with __init__.py but the tests), and its templates and static files.
    for folder in ROOT.iterdir():
        if folder.name in ("templates", "static") or ((folder / "__init__.py").exists() and folder.name != "tests"):
            shutil.copytree(folder, tmp_path / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def manage(project: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=clean_environment(PYTHONPATH=str(project), **env),
        capture_output=True,
        text=True,
        check=check,
    )


def read_setting(name: str, *, project: Path = ROOT, **env: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=clean_environment(PYTHONPATH=str(project), **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if "__pycache__" not in path.parts}


def test_importing_the_settings_writes_nothing(tmp_path):
    project = project_copy(tmp_path)
    before = files_under(project)
    read_setting("DEBUG", project=project)
    assert files_under(project) == before


def test_a_missing_credential_stops_check_with_what_to_run(tmp_path):
    project = project_copy(tmp_path)
    done = manage(project, "check", check=False, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert done.returncode != 0
    assert "AUTOQL_TOKEN is not set." in done.stderr
    assert "manage.py generate_credentials" in done.stderr


def test_unset_credentials_are_generated_once_and_kept(tmp_path):
    project = project_copy(tmp_path)
    manage(project, "generate_credentials")
    first = read_setting("AUTOQL_TOKEN", project=project)
    manage(project, "generate_credentials")
    second = read_setting("AUTOQL_TOKEN", project=project)
    assert len(first) >= 40 and first == second
    generated = project / "var" / "generated.env"
    assert f"AUTOQL_TOKEN={first}" in generated.read_text()
    assert manage(project, "check", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}").returncode == 0


def test_the_environment_wins_over_the_generated_file(tmp_path):
    project = project_copy(tmp_path)
    manage(project, "generate_credentials")
    assert read_setting("AUTOQL_TOKEN", project=project, AUTOQL_TOKEN="from-env") == "from-env"


def test_a_credential_set_in_the_environment_is_not_generated(tmp_path):
    project = project_copy(tmp_path)
    manage(project, "generate_credentials", AUTOQL_TOKEN="from-env")
    assert "AUTOQL_TOKEN=" not in (project / "var" / "generated.env").read_text()


def test_no_credential_is_a_constant_in_the_repository(tmp_path):
    project = project_copy(tmp_path)
    manage(project, "generate_credentials")
    sandbox = read_setting("AUTOQL_SANDBOX_API_KEY", project=project)
    tracked = subprocess.run(["git", "grep", "-l", sandbox], cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""


def test_every_setting_read_from_the_environment_is_in_env_example():
    source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source)) | set(generated_names())
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
    # Each one has a comment line right above it.
    lines = (ROOT / ".env.example").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            assert lines[i - 1].startswith("# "), line


def test_idle_workers_poll_often_on_sqlite_and_rely_on_notify_on_postgresql():
    sqlite = read_setting("WEBHOOK_POLL_INTERVAL", DATABASE_URL="sqlite:////tmp/unused.sqlite3")
    postgresql = read_setting("WEBHOOK_POLL_INTERVAL", DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused")
    assert (float(sqlite), float(postgresql)) == (0.25, 5.0)
    assert float(read_setting("WEBHOOK_POLL_INTERVAL", WEBHOOK_POLL_INTERVAL="1.5")) == 1.5


def test_a_poll_interval_of_no_time_is_refused_by_name():
    for value in ("0", "-1"):
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "WEBHOOK_POLL_INTERVAL": value}
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0
        assert "WEBHOOK_POLL_INTERVAL" in done.stderr and "above 0" in done.stderr


def test_a_cache_url_keeps_its_key_prefix_for_djangos_redis_cache():
    cache = read_setting('CACHES["default"]', CACHE_URL="redis://127.0.0.1:6379/3?key_prefix=portal-a&timeout=60")
    assert "'KEY_PREFIX': 'portal-a'" in cache and "'TIMEOUT': 60" in cache
    assert "'LOCATION': 'redis://127.0.0.1:6379/3'" in cache and "key_prefix" not in cache
    assert "'BACKEND': 'portal.cache.RedisCache'" in cache  # Django's, as portal/cache.py tunes it


def test_a_command_prints_no_django_axes_banner():
    # django-axes announces itself ("AXES: BEGIN version ...") in every process unless told not to.
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "print('ready')"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().endswith("ready")
    assert "AXES" not in done.stdout + done.stderr


POSTGRES_URL = "postgres://portal@db.example.com:5432/portal"


def test_on_postgresql_a_web_thread_keeps_its_connection_and_checks_it_before_reuse():
    database = "DATABASES['default']"
    assert read_setting(f"{database}['CONN_MAX_AGE']", DATABASE_URL=POSTGRES_URL) == "60"
    assert read_setting(f"{database}['CONN_HEALTH_CHECKS']", DATABASE_URL=POSTGRES_URL) == "True"
    # DATABASE_URL's own `conn_max_age` wins; DATABASE_CONN_MAX_AGE sets the default.
    assert read_setting(f"{database}['CONN_MAX_AGE']", DATABASE_URL=f"{POSTGRES_URL}?conn_max_age=0") == "0"
    assert read_setting(f"{database}['CONN_MAX_AGE']", DATABASE_URL=POSTGRES_URL, DATABASE_CONN_MAX_AGE="5") == "5"
    # SQLite opens its file in a moment: one connection a request, as Django does by default.
    assert read_setting(f"{database}.get('CONN_MAX_AGE', 0)") == "0"
