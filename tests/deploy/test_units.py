"""The shipped systemd units and their environment files agree with each other and with the settings."""

import re
from pathlib import Path

from tests.systemd import ENV_EXAMPLES, ROOT, UNITS, command_line, read_environment_file, service_section

# Read by the units' command lines (PORTAL_BIND, WORKER_OPTIONS) or by gunicorn itself (WEB_CONCURRENCY).
READ_OUTSIDE_THE_SETTINGS = {"PORTAL_BIND", "WORKER_OPTIONS", "WEB_CONCURRENCY"}


def unit_files() -> list[Path]:
    return sorted(UNITS.glob("*.service"))


def example_of(unit: Path) -> Path:
    return ENV_EXAMPLES / Path(service_section(unit)["EnvironmentFile"]).name


def test_each_unit_reads_one_environment_file_shipped_as_an_example():
    assert [unit.name for unit in unit_files()] == ["webhooks-portal-web.service", "webhooks-portal-worker@.service"]
    for unit in unit_files():
        environment_files = [line for line in unit.read_text().splitlines() if line.startswith("EnvironmentFile=")]
        assert len(environment_files) == 1 and example_of(unit).is_file(), unit.name


def test_every_variable_a_command_line_uses_is_in_its_environment_file():
    for unit in unit_files():
        used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", service_section(unit)["ExecStart"]))
        assert used - set(read_environment_file(example_of(unit))) == set(), unit.name


def test_every_variable_of_the_environment_files_is_one_the_portal_reads():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    for example in ENV_EXAMPLES.glob("*.env"):
        assert set(read_environment_file(example)) - documented - READ_OUTSIDE_THE_SETTINGS == set(), example.name


def test_the_web_unit_runs_gunicorn_with_the_projects_config_on_the_bind_address():
    unit = UNITS / "webhooks-portal-web.service"
    words = command_line(unit, {"PORTAL_BIND": "10.0.0.11:8000"})
    assert Path(words[0]).name == "gunicorn" and words[1] == "portal.wsgi"
    assert words[words.index("--config") + 1] == str(ROOT / "gunicorn.conf.py")
    assert words[words.index("--bind") + 1] == "10.0.0.11:8000"


def test_a_worker_instance_is_named_by_its_machine_and_instance_and_takes_its_options():
    unit = UNITS / "webhooks-portal-worker@.service"
    words = command_line(unit, {"WORKER_OPTIONS": "--environment production"}, instance="2")
    assert words[1:3] == ["manage.py", "delivery_worker"] and words[-2:] == ["--environment", "production"]
    assert words[words.index("--worker-id") + 1].endswith("-2")
    assert "--environment" not in command_line(unit, {"WORKER_OPTIONS": ""}, instance="1")
