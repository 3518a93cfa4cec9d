"""Real `manage.py delivery_worker` processes on the test database, for the delivery tests."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": test_database_url(),
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "WEBHOOK_DELIVERY_DEADLINE": "2",
            "WEBHOOK_RECOVERY_INTERVAL": "0.5",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


@contextmanager
def workers(count: int = 1, log_dir: Path | None = None, environment: str | None = None, **extra: str):
    """Start `count` workers on `environment` (every one by default); stop them when the block ends."""
    processes = [start_worker(i, log_dir, environment=environment, **extra) for i in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            stop_worker(process)


def start_worker(
    index: int = 0, log_dir: Path | None = None, environment: str | None = None, **extra: str
) -> subprocess.Popen:
    log = open(log_dir / f"worker-{index}.log", "w") if log_dir else subprocess.DEVNULL  # noqa: SIM115 (the worker owns it)
    serving = ["--environment", environment] if environment else []
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "delivery_worker",
            *serving,
            "--worker-id",
            f"test-worker-{index}-{time.monotonic_ns()}",
        ],
        cwd=ROOT,
        env=worker_env(**extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def process_holding(local_port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the IPv4 TCP socket bound to `local_port` (Linux: /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue  # closed meanwhile
    return None


def wait_for(predicate, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")
