"""Debian's nginx in front of the portal, configured by the shipped deploy/nginx/portal.conf.

Only the two files that portal.conf leaves to each site (which nodes, and where to listen with
which certificate) are written here, next to a minimal nginx.conf that includes the shipped file
as it is. TLS uses a certificate made for 127.0.0.1 for the run.
"""

import datetime
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

from tests.instances import accepts_connections
from tests.ports import free_port
from tests.workers import wait_for

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "deploy" / "nginx" / "portal.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Proxy:
    url: str
    certificate: Path
    folder: Path

    def access_log(self) -> str:
        return (self.folder / "access.log").read_text()

    def drain(self, node: int) -> None:
        """README, "Several machines": mark the node `down` in upstream.conf and reload nginx; back
        once the workers of the old configuration have finished what they held and exited."""
        upstreams = self.folder / "conf" / "webhooks-portal" / "upstream.conf"
        lines = upstreams.read_text().splitlines()
        upstreams.write_text(
            "".join(f"{line.rstrip(';')} down;\n" if f":{node} " in line else f"{line}\n" for line in lines)
        )
        master = int((self.folder / "nginx.pid").read_text())
        old_workers = children(master)
        os.kill(master, signal.SIGHUP)
        wait_for(lambda: not (old_workers & children(master)), 30, message="nginx's old workers to exit")

    def answered(self) -> list[tuple[str, str, int, list[int]]]:
        """(method, path, status, the ports of the nodes tried in turn) of each request so far."""
        entries = []
        for line in self.access_log().splitlines():
            method, path, status, upstreams = line.split(" ", 3)
            ports = [int(address.rsplit(":", 1)[1]) for address in re.split(r"[,:] ", upstreams) if ":" in address]
            entries.append((method, path, int(status), ports))
        return entries


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The parent's id is the second field after the name, which is in parentheses.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return found


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "portal.pem", folder / "portal.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextmanager
def nginx_in_front(folder: Path, node_ports: list[int], static_root: Path = ROOT / "static") -> Iterator[Proxy]:
    """nginx on a free port of 127.0.0.1, TLS, proxying to the web nodes on `node_ports`."""
    conf = folder / "conf"
    (conf / "webhooks-portal").mkdir(parents=True)
    for temporary in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temporary).mkdir()
    certificate, key = self_signed_certificate(folder)
    port = free_port()
    (conf / "webhooks-portal" / "upstream.conf").write_text(
        "".join(f"server 127.0.0.1:{node} max_fails=1 fail_timeout=2s;\n" for node in node_ports)
    )
    (conf / "webhooks-portal" / "server.conf").write_text(
        f"listen 127.0.0.1:{port} ssl;\n"
        "server_name 127.0.0.1;\n"
        f"ssl_certificate {certificate};\n"
        f"ssl_certificate_key {key};\n"
        f"set $portal_static {static_root};\n"
    )
    (conf / "nginx.conf").write_text(
        f"""
user root;
worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    # Which node answered each request (several when nginx moved on to the next); the path
    # without its query string, which may hold an API key.
    log_format portal '$request_method $uri $status $upstream_addr';
    access_log {folder / "access.log"} portal;
    client_body_temp_path {folder / "body"};
    proxy_temp_path {folder / "proxy"};
    fastcgi_temp_path {folder / "fastcgi"};
    uwsgi_temp_path {folder / "uwsgi"};
    scgi_temp_path {folder / "scgi"};
    include {SHIPPED};
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(conf / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "nginx.stderr", "w"),  # noqa: SIM115 (the process owns it)
    )
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not accepts_connections(port):
            if process.poll() is not None or time.monotonic() > deadline:
                error_log = folder / "error.log"
                raise AssertionError(
                    f"nginx did not start: {(folder / 'nginx.stderr').read_text()}"
                    f"{error_log.read_text() if error_log.exists() else ''}"
                )
            time.sleep(0.1)
        yield Proxy(url=url, certificate=certificate, folder=folder)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class FromAddress(HTTPAdapter):
    """Connections from a given local address: 127.0.0.2, 127.0.0.3 ... are distinct clients."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(source: str, proxy: Proxy) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(proxy.certificate)
    session.mount("https://", FromAddress(source))
    return session
