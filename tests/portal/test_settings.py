"""Settings: credentials generated once and kept, environment variables win, .env.example is complete."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def read_setting(name: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AUTOQL_") and k != "SECRET_KEY"}
    environment.update(env)
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_unset_credentials_are_generated_once_and_kept():
    first = read_setting("AUTOQL_TOKEN", DJANGO_SETTINGS_MODULE="portal.settings")
    second = read_setting("AUTOQL_TOKEN", DJANGO_SETTINGS_MODULE="portal.settings")
    assert len(first) >= 40 and first == second
    generated = settings.GENERATED_ENV_FILE
    assert f"AUTOQL_TOKEN={first}" in generated.read_text()
    assert generated.stat().st_mode & 0o777 == 0o600


def test_the_environment_wins_over_the_generated_file():
    assert read_setting("AUTOQL_TOKEN", DJANGO_SETTINGS_MODULE="portal.settings", AUTOQL_TOKEN="from-env") == "from-env"


def test_no_credential_is_a_constant_in_the_repository():
    sandbox = read_setting("AUTOQL_SANDBOX_API_KEY", DJANGO_SETTINGS_MODULE="portal.settings")
    tracked = subprocess.run(["git", "grep", "-l", sandbox], cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""


def test_every_setting_read_from_the_environment_is_in_env_example():
    source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source)) | set(settings.GENERATED_NAMES)
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
