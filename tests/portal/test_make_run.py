"""scripts/serve.sh, what `make run` ends with: the portal and the worker together, Ctrl-C stops both."""

import contextlib
import os
import signal
import subprocess
import threading

import requests

from tests.instances import ROOT
from tests.ports import free_port
from tests.workers import wait_for


def serves_the_login_page(port: str) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def process_group(pgid: int) -> str:
    return subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.strip()


def test_ctrl_c_stops_the_web_server_and_the_worker(tmp_path):
    database = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    password_file = tmp_path / "var" / "first-login.txt"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "PORT": str(free_port()),
        "SECURE_SSL_REDIRECT": "false",
        "FIRST_LOGIN_FILE": str(password_file),
    }
    subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    # A session of its own, like a terminal's foreground job: Ctrl-C signals the whole group.
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        wait_for(lambda: serves_the_login_page(env["PORT"]), 30, interval=0.2, message="the portal to start")
        wait_for(lambda: any("Show this again" in line for line in lines), 30, message="the sign-in to be printed")
        members = subprocess.run(["pgrep", "-g", str(process.pid), "-a"], capture_output=True, text=True).stdout
        assert "gunicorn" in members and "delivery_worker" in members

        os.killpg(process.pid, signal.SIGINT)
        # A bound, not a speed: about 1 run in 10 (here and in CI, 2026-12-03) the group was still
        # there 20 s after Ctrl-C, and then gone; why is not known yet (gunicorn's 30 s graceful
        # timeout, or a write waiting out SQLite's 20 s busy timeout, would both fit).
        process.wait(timeout=60)
        reader.join(timeout=5)
        output = "".join(lines)
        # The group empties as gunicorn's workers and the delivery worker finish shutting down.
        wait_for(lambda: process_group(process.pid) == "", 20, message="every process of the group to stop")
        # What it prints to copy and open follows the port it serves.
        port = env["PORT"]
        assert f"http://127.0.0.1:{port}/" in output and f"http://127.0.0.1:{port}/demo/receiver/" in output
        assert f"PORT={port} .venv/bin/python manage.py seed_demo" in output
        # The start-up output ends with where to sign in, as whom, and where the password is kept.
        sign_in = output.index(f"Sign in at  http://127.0.0.1:{port}/accounts/login/")
        assert sign_in > max(output.rindex("Booting worker"), output.rindex("Listening at"), output.index("Portal: "))
        assert "user:      admin" in output[sign_in:] and str(password_file) in output[sign_in:]
        assert password_file.stat().st_mode & 0o777 == 0o600
        assert password_file.read_text().strip() not in output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
