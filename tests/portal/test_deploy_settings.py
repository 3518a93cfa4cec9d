"""Deploy settings: Django's deploy check passes on defaults, and X-Forwarded-Proto is trusted only behind a proxy."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.instances import ROOT

# Everything of a checkout but what a machine adds to it (credentials, databases, the virtualenv).
NOT_COPIED = {".git", ".venv", "var", "build", "staticfiles", "tests", "docs", "node_modules", ".pytest_cache"}


@pytest.fixture
def fresh_checkout(tmp_path):
    """The project's code without var/: credentials are generated afresh, as `make run` does on a new machine."""
    for source in ROOT.iterdir():
        name = source.name
        if name in NOT_COPIED:
            continue
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    # What `make run` does first on a new machine: the settings themselves only read.
    subprocess.run(
        [sys.executable, "manage.py", "generate_credentials"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        check=True,
        capture_output=True,
    )
    return tmp_path


def deploy_check(cwd, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "DEBUG": "false", **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_debug_off_and_nothing_else_set(fresh_checkout):
    done = deploy_check(fresh_checkout)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_the_deploy_check_warns_when_hsts_leaves_out_subdomains_and_preload(fresh_checkout):
    done = deploy_check(fresh_checkout, SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="false")
    assert done.returncode == 1
    assert "security.W005" in done.stderr and "security.W021" in done.stderr


def settings_probe(code: str, **env: str) -> str:
    clean = {"PATH": os.environ["PATH"], "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


IS_SECURE = (
    "from django.test import RequestFactory; "
    "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https', secure=False).is_secure())"
)


def test_without_a_tls_proxy_x_forwarded_proto_does_not_make_a_request_secure():
    assert settings_probe(IS_SECURE) == "False"


def test_behind_a_tls_proxy_x_forwarded_proto_makes_a_request_secure():
    assert settings_probe(IS_SECURE, BEHIND_TLS_PROXY="true") == "True"


def test_hsts_defaults_to_a_year_with_subdomains_and_preload_when_debug_is_off():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT)"
    )
    assert settings_probe(code) == "31536000 True True True"
    assert settings_probe(code, DEBUG="true") == "0 True True False"
