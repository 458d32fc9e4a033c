"""A real, throw-away Synapse homeserver on 127.0.0.1 for end-to-end Matrix tests.

Not a fake: the unmodified ``matrix-synapse`` from PyPI, with a SQLite database in a temp
directory, federation off, and every rate limiter relaxed except ``rc_message`` (the one a
streaming bot runs into), which keeps Synapse's default (0.2 events/s, burst 10). Tests exempt
their users with :meth:`SynapseServer.override_ratelimit`, except the one test that checks the
bot's behaviour under the default limit.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)

SHARED_SECRET = "hearth-test-shared-secret"
SERVER_NAME = "localhost"
_RELAXED = "{per_second: 10000, burst_count: 100000}"

_CONFIG = """\
server_name: "@SERVER@"
pid_file: @DATA@/homeserver.pid
public_baseurl: "http://127.0.0.1:@PORT@/"
listeners:
  - port: @PORT@
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args: {database: @DATA@/homeserver.db}
log_config: @DATA@/log.yaml
media_store_path: @DATA@/media_store
signing_key_path: @DATA@/@SERVER@.signing.key
registration_shared_secret: "@SECRET@"
macaroon_secret_key: "hearth-test-macaroon"
form_secret: "hearth-test-form"
report_stats: false
enable_registration: false
enable_metrics: false
federation_domain_whitelist: []
trusted_key_servers: []
suppress_key_server_warning: true
allow_public_rooms_over_federation: false
presence: {enabled: false}
url_preview_enabled: false
# rc_message keeps Synapse's default (0.2/s, burst 10): tests exempt users explicitly.
rc_registration: @RELAXED@
rc_login:
  address: @RELAXED@
  account: @RELAXED@
  failed_attempts: @RELAXED@
rc_joins:
  local: @RELAXED@
  remote: @RELAXED@
rc_joins_per_room: @RELAXED@
rc_invites:
  per_room: @RELAXED@
  per_user: @RELAXED@
  per_issuer: @RELAXED@
rc_room_creation: @RELAXED@
rc_media_create: @RELAXED@
rc_presence: {per_user: @RELAXED@}
rc_admin_redaction: @RELAXED@
rc_3pid_validation: @RELAXED@
rc_delayed_event_mgmt: @RELAXED@
rc_reports: @RELAXED@
rc_user_directory: @RELAXED@
rc_profile: @RELAXED@
"""

_LOG_CONFIG = """\
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: @DATA@/homeserver.log
    encoding: utf8
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


@dataclass(frozen=True, slots=True)
class Registration:
    """A user registered on the test server."""

    user_id: str
    access_token: str
    device_id: str
    password: str


class SynapseStartError(RuntimeError):
    """Synapse did not come up; the message carries the tail of its logs."""


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SynapseServer:
    """Start, use and stop one Synapse process (``with SynapseServer(dir) as hs:``)."""

    def __init__(self, data_dir: Path, *, python: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._python = python or sys.executable
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout: Path = data_dir / "stdout.log"
        self._names = itertools.count(1)
        self.admin: Registration | None = None
        self.startup_seconds = 0.0

    @property
    def config_path(self) -> Path:
        """The generated homeserver.yaml."""
        return self.data_dir / "homeserver.yaml"

    def write_config(self) -> None:
        """Write homeserver.yaml and the log config into the data dir."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        values = {
            "@DATA@": str(self.data_dir),
            "@PORT@": str(self.port),
            "@SERVER@": SERVER_NAME,
            "@SECRET@": SHARED_SECRET,
            "@RELAXED@": _RELAXED,
        }
        self.config_path.write_text(_fill(_CONFIG, values), encoding="utf-8")
        (self.data_dir / "log.yaml").write_text(_fill(_LOG_CONFIG, values), encoding="utf-8")

    def start(self, timeout: float = 60.0) -> None:
        """Generate keys, start the server and wait for ``/health``."""
        started = time.monotonic()
        self.write_config()
        base = [self._python, "-m", "synapse.app.homeserver", "-c", str(self.config_path)]
        keys = subprocess.run(
            [*base, "--generate-keys"], capture_output=True, timeout=timeout, check=False
        )
        if keys.returncode != 0:
            raise SynapseStartError(
                "synapse --generate-keys failed:\n" + keys.stderr.decode(errors="replace")[-3000:]
            )
        out = self._stdout.open("wb")
        self._proc = subprocess.Popen(
            base, stdout=out, stderr=subprocess.STDOUT, cwd=self.data_dir, start_new_session=True
        )
        out.close()
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as http:
            while True:
                if self._proc.poll() is not None:
                    raise SynapseStartError(
                        f"synapse exited with {self._proc.returncode}:\n" + self.log_tail()
                    )
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise SynapseStartError("synapse not healthy in time:\n" + self.log_tail())
                time.sleep(0.05)
        self.startup_seconds = time.monotonic() - started
        self.admin = self.register("admin", admin=True)

    def stop(self) -> None:
        """SIGTERM, then kill if it does not exit within 15 s."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            log.warning("synapse did not stop on SIGTERM; killing it")
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> SynapseServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The end of Synapse's stdout and log file, for failure messages."""
        parts = []
        for path in (self._stdout, self.data_dir / "homeserver.log"):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                parts.append(f"--- {path.name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def unique(self, prefix: str) -> str:
        """A fresh localpart, so tests never share users or rooms."""
        return f"{prefix}{next(self._names)}_{os.getpid()}"

    @staticmethod
    def _mac(nonce: str, user: str, password: str, admin: bool) -> str:
        msg = b"\x00".join(
            [nonce.encode(), user.encode(), password.encode(), b"admin" if admin else b"notadmin"]
        )
        return hmac.new(SHARED_SECRET.encode(), msg, hashlib.sha1).hexdigest()

    def _register_body(self, nonce: str, localpart: str, password: str, admin: bool) -> dict:
        return {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": self._mac(nonce, localpart, password, admin),
        }

    def register(self, localpart: str, *, admin: bool = False) -> Registration:
        """Register a user through the shared-secret admin API (blocking; session setup)."""
        password = f"{localpart}-pw"
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with httpx.Client(timeout=10.0) as http:
            nonce = http.get(endpoint).json()["nonce"]
            resp = http.post(endpoint, json=self._register_body(nonce, localpart, password, admin))
        resp.raise_for_status()
        body = resp.json()
        return Registration(body["user_id"], body["access_token"], body["device_id"], password)

    async def aregister(self, prefix: str, *, exempt: bool = True) -> Registration:
        """Register a fresh user; ``exempt`` lifts its message rate limit."""
        localpart = self.unique(prefix)
        password = f"{localpart}-pw"
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        async with httpx.AsyncClient(timeout=10.0) as http:
            nonce = (await http.get(endpoint)).json()["nonce"]
            body = self._register_body(nonce, localpart, password, False)
            resp = await http.post(endpoint, json=body)
            resp.raise_for_status()
            data = resp.json()
            if exempt:
                await self._override(http, data["user_id"])
        return Registration(data["user_id"], data["access_token"], data["device_id"], password)

    async def override_ratelimit(self, user_id: str) -> None:
        """Exempt ``user_id`` from message rate limits (admin API, 0/0 = unlimited)."""
        async with httpx.AsyncClient(timeout=10.0) as http:
            await self._override(http, user_id)

    async def _override(self, http: httpx.AsyncClient, user_id: str) -> None:
        assert self.admin is not None
        resp = await http.post(
            f"{self.url}/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
            json={"messages_per_second": 0, "burst_count": 0},
            headers={"Authorization": f"Bearer {self.admin.access_token}"},
        )
        resp.raise_for_status()
