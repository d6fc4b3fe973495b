"""A throwaway PostgreSQL server with PostGIS, for the register store tests and benchmarks.

Uses Debian's binaries (``apt-get install postgresql postgresql-15-postgis-3``):
``initdb`` makes a cluster in a new temporary folder, ``pg_ctl`` starts it on
127.0.0.1 and a free port with its socket in that folder, and :meth:`PgServer.stop`
stops it and deletes the folder. PostgreSQL refuses to run as root, so as root
the commands run as the ``postgres`` user (``runuser -u postgres --``), which the
Debian package creates.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 60
_SERVICE_USER = "postgres"


def pg_bin() -> Path | None:
    """Return the newest Debian PostgreSQL ``bin`` folder holding ``initdb`` and ``pg_ctl``, or None."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [p for p in found if (p / "pg_ctl").is_file()]
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0) if found else None


def missing_postgres() -> str | None:
    """Say what is missing to run a PostGIS test server, or None when nothing is."""
    bin_dir = pg_bin()
    if bin_dir is None:
        return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql."
    version = bin_dir.parent.name
    if not Path(f"/usr/share/postgresql/{version}/extension/postgis.control").is_file():
        return f"PostGIS is not installed for PostgreSQL {version}: apt-get install postgresql-{version}-postgis-3."
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing, so PostgreSQL cannot be started as another user."
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed: pip install 'psycopg[binary]>=3.1'."
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_service_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", _SERVICE_USER, "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PgServer:
    """A running throwaway PostgreSQL server."""

    folder: Path
    port: int
    bin_dir: Path
    template: str = "assetmap_template"
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        """Connection URL of one database (trust authentication on 127.0.0.1)."""
        return f"postgresql://{_SERVICE_USER}@127.0.0.1:{self.port}/{database}"

    def admin(self, *statements: str, database: str = "postgres") -> None:
        """Run statements one by one outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def fresh_database(self) -> str:
        """Create an empty database with PostGIS enabled (copied from the template); return its URL."""
        name = f"test_{os.getpid()}_{next(self._counter)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {self.template} STRATEGY FILE_COPY")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        subprocess.run(
            _as_service_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(*, durable: bool = False, max_connections: int = 300) -> PgServer:
    """Start a PostgreSQL server in a new temporary folder, with a PostGIS template database.

    Parameters
    ----------
    durable : bool
        False (tests): fsync and synchronous commit off, which is fast and loses
        nothing unless the machine itself fails. True (benchmarks): PostgreSQL's
        defaults, so that figures mean what they would in service.
    max_connections : int
        Server's connection limit (concurrency tests open one connection per thread).

    Raises
    ------
    RuntimeError
        When the server does not start, with its log.
    """
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError(missing_postgres() or "PostgreSQL is not installed")
    # In /tmp, not pytest's folder: the service user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="assetmap-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, user=_SERVICE_USER, group=_SERVICE_USER)
    port = _free_port()
    server = PgServer(folder=folder, port=port, bin_dir=bin_dir)
    log = folder / "server.log"

    def run(cmd: list[str]) -> None:
        done = subprocess.run(_as_service_user(cmd), capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"{' '.join(cmd[:2])} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(server.data_dir),
            "-U",
            _SERVICE_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]
    )
    options = [
        f"-p {port}",
        f"-k {folder}",
        "-c listen_addresses=127.0.0.1",
        f"-c max_connections={max_connections}",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(server.data_dir),
            "-l",
            str(log),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "-o",
            " ".join(options),
            "start",
        ]
    )
    try:
        server.admin(f"CREATE DATABASE {server.template}")
        server.admin("CREATE EXTENSION postgis", database=server.template)
    except BaseException:
        server.stop()
        raise
    return server
