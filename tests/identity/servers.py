"""The real servers single sign-on is tested against, each started once per test session on a free
port of 127.0.0.1: the OpenID Connect provider (tests/identity/oidc_provider/) and OpenLDAP's slapd,
with its own configuration, data and TLS certificate in a temporary directory."""

import datetime
import ipaddress
import json
import secrets
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.instances import accepts_connections
from tests.ports import free_port
from tests.workers import ROOT, wait_for


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --- OpenID Connect provider ----------------------------------------------------------------------
@dataclass
class Provider:
    url: str
    client_id: str
    client_secret: str
    directory: Path

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def set_person(self, username: str, password: str, groups: list[str], **claims: Any) -> None:
        """Adds or changes someone in the provider's directory; the next sign-in sees it."""
        people_file = self.directory / "people.json"
        people = json.loads(people_file.read_text())
        people[username] = {"password": password, "groups": groups, **claims}
        people_file.write_text(json.dumps(people))


@contextmanager
def running_provider(directory: Path, redirect_uris: list[str], post_logout_uris: list[str]):
    (directory / "secret_key").write_text(secrets.token_urlsafe(40))
    (directory / "key.pem").write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    (directory / "people.json").write_text("{}")
    port = free_port()
    provider = Provider(
        f"http://127.0.0.1:{port}", "portal-" + secrets.token_hex(4), secrets.token_urlsafe(24), directory
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PROVIDER_DIR": str(directory),
        "DJANGO_SETTINGS_MODULE": "tests.identity.oidc_provider.settings",
    }
    prepare = [sys.executable, "-m", "tests.identity.oidc_provider.prepare", provider.client_id, provider.client_secret]
    subprocess.run([*prepare, *redirect_uris, "--", *post_logout_uris], cwd=ROOT, env=env, check=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = open(directory / "provider.log", "w")  # noqa: SIM115 (the process writes to it)
    process = subprocess.Popen(
        [str(gunicorn), "tests.identity.oidc_provider.wsgi", "--bind", f"127.0.0.1:{port}", "--threads", "4"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: accepts_connections(port), 20, message="the OpenID Connect provider to start")
        yield provider
    finally:
        process.terminate()
        process.wait(10)
        log.close()


# --- OpenLDAP -----------------------------------------------------------------------------------
SUFFIX = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{SUFFIX}"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
# The portal's own account, which searches for people and groups.
PORTAL_DN = f"cn=portal,{SUFFIX}"


@dataclass
class Directory:
    uri: str
    root_password: str
    portal_password: str
    ca_file: Path


def _certificate(directory: Path) -> None:
    """A CA and the server's certificate for 127.0.0.1, for StartTLS."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tests' CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(_pem(key))


Entry = dict[str, list[str] | str]


def _ldif(entries: list[Entry]) -> str:
    blocks = []
    for entry in entries:
        lines = [f"dn: {entry['dn']}"]
        for name, values in entry.items():
            if name != "dn":
                lines += [f"{name}: {value}" for value in ([values] if isinstance(values, str) else values)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def person_entry(uid: str, password: str, given_name: str, surname: str) -> Entry:
    return {
        "dn": f"uid={uid},{PEOPLE}",
        "objectClass": "inetOrgPerson",
        "uid": uid,
        "cn": f"{given_name} {surname}",
        "givenName": given_name,
        "sn": surname,
        "mail": f"{uid}@example.com",
        "userPassword": password,
    }


def group_entry(name: str, members: list[str]) -> Entry:
    # groupOfNames needs at least one member: the root DN is one, so that a test may remove everyone.
    return {
        "dn": f"cn={name},{GROUPS}",
        "objectClass": "groupOfNames",
        "cn": name,
        "member": [ROOT_DN] + [f"uid={uid},{PEOPLE}" for uid in members],
    }


@contextmanager
def running_slapd(directory: Path, seed: list[Entry]):
    root_password, portal_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    _certificate(directory)
    (directory / "data").mkdir()
    config = directory / "slapd.conf"
    config.write_text(
        f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {directory}/slapd.pid
TLSCACertificateFile {directory}/ca.pem
TLSCertificateFile {directory}/server.pem
TLSCertificateKeyFile {directory}/server.key
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{PORTAL_DN}" read by * none
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {root_password}
directory {directory}/data
"""
    )
    base: list[Entry] = [
        {"dn": SUFFIX, "objectClass": ["dcObject", "organization"], "dc": "example", "o": "Example"},
        {"dn": PEOPLE, "objectClass": "organizationalUnit", "ou": "people"},
        {"dn": GROUPS, "objectClass": "organizationalUnit", "ou": "groups"},
        {
            "dn": PORTAL_DN,
            "objectClass": ["organizationalRole", "simpleSecurityObject"],
            "cn": "portal",
            "userPassword": portal_password,
        },
    ]
    (directory / "seed.ldif").write_text(_ldif(base + seed))
    subprocess.run(
        ["/usr/sbin/slapadd", "-q", "-f", str(config), "-l", str(directory / "seed.ldif")],
        check=True,
        capture_output=True,
    )
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    log = open(directory / "slapd.log", "w")  # noqa: SIM115 (the process writes to it)
    # -d keeps slapd in the foreground, where the test can stop it.
    process = subprocess.Popen(
        ["/usr/sbin/slapd", "-d", "0", "-f", str(config), "-h", uri + "/"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: accepts_connections(port), 20, message="slapd to start")
        yield Directory(uri, root_password, portal_password, directory / "ca.pem")
    finally:
        process.terminate()
        process.wait(10)
        log.close()
