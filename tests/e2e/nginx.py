"""A real nginx in front of an app: TLS with client certificates on 127.0.0.1, the client's
certificate forwarded in a header, run in the foreground and stopped by the test.

Debian's package provides the binary (``scripts/nginx-setup.sh`` installs it). The
configuration, the certificates, the pid file, the log and nginx's temporary folders
all live in a folder of the test's own; the package's configuration and service are
never used. nginx listens on a free port of 127.0.0.1 with ``ssl_verify_client
optional``: a certificate the test CA signed is verified and forwarded, a request
without one still reaches the app (which refuses a bound token), and one the CA did
not sign is refused by nginx itself. What a client sends in the forwarded header is
never passed on: ``proxy_set_header`` replaces it with what the TLS handshake proved.

Example::

    with NginxProxy(folder, upstream="http://127.0.0.1:8000", ca=ca, server=server) as proxy:
        httpx.get(proxy.url + "/api/public", verify=proxy.client_context(client))
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest

from tests.certificates import Authority, Issued
from tests.redis_server import free_port

SETUP = "bash scripts/nginx-setup.sh"
START_DEADLINE = 15.0
STOP_DEADLINE = 10.0
#: the header nginx sets from ``$ssl_client_escaped_cert`` (the app reads it as
#: ``client_certificate="header:X-SSL-Client-Cert"``)
FORWARDED = "X-SSL-Client-Cert"

_CONFIG = """\
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}

http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {folder}/server.crt;
        ssl_certificate_key {folder}/server.key;
        ssl_client_certificate {folder}/ca.crt;
        ssl_verify_client optional;

        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            # The client's certificate, as the TLS handshake proved it (nothing when it sent
            # none): any X-SSL-Client-Cert a client sent is replaced, never passed on.
            proxy_set_header {forwarded} $ssl_client_escaped_cert;
            # The other certificate fields an API might be told to read: never a client's.
            proxy_set_header Client-Cert "";
            proxy_set_header X-Forwarded-Client-Cert "";
        }}
    }}
}}
"""


def nginx_binary() -> str:
    """The nginx to run; fails the test (never skips it) when there is none."""
    found = shutil.which("nginx")
    for candidate in (found, "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        f"nginx is not installed: the certificate-binding end-to-end test needs it. Run "
        f"`{SETUP}` (as root it installs Debian's nginx package).",
        pytrace=False,
    )


class NginxProxy:
    """nginx with TLS on a free port of 127.0.0.1, forwarding to ``upstream``."""

    def __init__(self, folder: Path, *, upstream: str, ca: Authority, server: Issued) -> None:
        self.binary = nginx_binary()
        self.folder = folder
        self.port = free_port()
        self.ca_file = folder / "ca.crt"
        self.ca_file.write_text(ca.pem)
        server.write(folder, "server")
        self.config = folder / "nginx.conf"
        self.config.write_text(
            _CONFIG.format(folder=folder, port=self.port, upstream=upstream, forwarded=FORWARDED)
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def client_context(self, certificate: Issued | None = None) -> ssl.SSLContext:
        """A TLS client that trusts the test CA and presents ``certificate`` (if any)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        if certificate is not None:
            stem = "client-" + certificate.thumbprint[:12]
            certificate_file, key_file = certificate.write(self.folder, stem)
            context.load_cert_chain(certificate_file, key_file)
        return context

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"

    def start(self) -> None:
        command = [
            self.binary,
            *("-p", str(self.folder)),
            *("-c", str(self.config)),
            *("-e", str(self.folder / "error.log")),  # never the package's own log
            *("-g", "daemon off;"),
        ]
        with (self.folder / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # stopped as a group: the master and its worker
            )
        deadline = time.monotonic() + START_DEADLINE
        while not self._accepts():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                stderr = (self.folder / "stderr.log").read_text(errors="replace")
                pytest.fail(
                    f"nginx did not start on port {self.port}:\n{stderr}\n{self.log()}",
                    pytrace=False,
                )
            time.sleep(0.02)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown) to the group, then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        group = os.getpgid(process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            process.wait(timeout=STOP_DEADLINE)
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return  # every process of the group is gone
        pytest.fail(f"nginx left processes in group {group}", pytrace=False)

    def __enter__(self) -> NginxProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
