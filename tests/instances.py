"""Start a second, real instance of this project (gunicorn on 127.0.0.1) for upstream-mode tests."""

import os
import secrets
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.ports import free_port
from tests.workers import wait_for

ROOT = Path(__file__).resolve().parent.parent


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@contextmanager
def running_instance(tmp_path: Path, log_file: Path | None = None, **extra_env: str):
    """Yields (base_url, environment) of a fresh instance with its own SQLite database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOQL_", "DATABASE_URL", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}",
        SECRET_KEY=secrets.token_urlsafe(32),
        AUTOQL_SANDBOX_API_KEY=secrets.token_urlsafe(24),
        AUTOQL_PRODUCTION_API_KEY=secrets.token_urlsafe(24),
        AUTOQL_TOKEN=secrets.token_urlsafe(24),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        WEBHOOK_ALLOWED_NETWORKS="",
    )
    env.update(extra_env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    output = open(log_file, "w") if log_file else subprocess.DEVNULL  # noqa: SIM115 (the process owns it)
    process = subprocess.Popen(
        [
            str(gunicorn),
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: accepts_connections(port), 20, message="the second instance to start")
        yield f"http://127.0.0.1:{port}", env
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def web_node(log_file: Path | None = None, **extra_env: str):
    """gunicorn serving this project on the test database (as a delivery worker would use it), on a
    free port; yields the port. The test must commit what the node should see (transaction=True)."""
    from tests.workers import worker_env

    port = free_port()
    env = worker_env(
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        **extra_env,
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    output = open(log_file, "w") if log_file else subprocess.DEVNULL  # noqa: SIM115 (the process owns it)
    process = subprocess.Popen(
        [str(gunicorn), "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: accepts_connections(port), 20, message="the web node to start")
        yield port
    finally:
        process.terminate()
        process.wait(10)
