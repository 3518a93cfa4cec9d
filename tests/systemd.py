"""The shipped systemd units (deploy/systemd/), run as systemd would run them, without systemd.

A unit's ExecStart is read from the file, its specifiers (%i, %H) and ${VARIABLES} expanded from
the environment file the test writes in place of its EnvironmentFile, and its command started in
its WorkingDirectory with only that environment; the install folder it names (/srv/...) is this
checkout, and the virtualenv's bin/ is the one running the tests. Stopping sends its KillSignal.
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
ENV_EXAMPLES = ROOT / "deploy" / "env"


def service_section(unit: Path) -> dict[str, str]:
    """The [Service] settings of a unit file (the last one wins, as in systemd)."""
    settings, section = {}, ""
    for line in unit.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            name, _, value = line.partition("=")
            settings[name.strip()] = value.strip()
    return settings


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (comments, optional quotes)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, separator, value = line.partition("=")
        assert separator and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()), f"{path}: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def write_environment_file(path: Path, example: Path, **values: str) -> Path:
    """The shipped example with the run's values: each one the example names, plus `values`."""
    shipped = read_environment_file(example)
    lines = [f"{name}={values.pop(name, value)}" for name, value in shipped.items()]
    lines += [f"{name}={value}" for name, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def command_line(unit: Path, environment: dict[str, str], instance: str = "") -> list[str]:
    """ExecStart, expanded as systemd does: specifiers, then "$VAR" split into words, "${VAR}" as one."""
    service = service_section(unit)
    installed = service["WorkingDirectory"].rstrip("/")
    line = service["ExecStart"]
    line = line.replace(f"{installed}/.venv/bin/", f"{Path(sys.executable).parent}/").replace(installed, str(ROOT))
    line = line.replace("%%", "\0").replace("%i", instance).replace("%H", socket.gethostname()).replace("\0", "%")
    words: list[str] = []
    for word in shlex.split(line):
        alone = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if alone:
            words += environment.get(alone.group(1), "").split()
        else:
            words.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: environment.get(m.group(1), ""), word))
    return words


@contextmanager
def service(unit: Path, environment_file: Path, log: Path, instance: str = "") -> Iterator[subprocess.Popen]:
    """The unit's command, running until the block ends (or the test stops it with `stop`)."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **read_environment_file(environment_file)}
    process = subprocess.Popen(
        command_line(unit, environment, instance),
        cwd=ROOT,
        env=environment,
        stdout=open(log, "w"),  # noqa: SIM115 (the process owns it)
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        stop(unit, process)


def stop(unit: Path, process: subprocess.Popen) -> None:
    """`systemctl stop`: the unit's KillSignal, then SIGKILL after its TimeoutStopSec."""
    if process.poll() is not None:
        return
    service = service_section(unit)
    process.send_signal(getattr(signal, service.get("KillSignal", "SIGTERM")))
    try:
        process.wait(float(service.get("TimeoutStopSec", "90").rstrip("s")))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
