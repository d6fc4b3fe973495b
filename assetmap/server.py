"""Start and stop the app as a real ``streamlit run`` server (for ``assetmap serve``, tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from assetmap import settings

#: The app's entry script, shipped in the package (``assetmap/ui/webapp/app.py``, with ``static/`` beside it).
APP_SCRIPT: Path = settings.package_root / "ui" / "webapp" / "app.py"

#: Seconds a server has to answer its health check.
START_TIMEOUT_S: float = 90.0

#: Seconds a server has to stop after it is asked to, before it is killed.
STOP_TIMEOUT_S: float = 10.0

#: Signals that stop a server run in the foreground: passed on to it.
_STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class ServerError(RuntimeError):
    """The app server exited or did not answer in time; the message ends with its log."""


def streamlit_command(app: Path, port: int, *, headless: bool = False) -> list[str]:
    """Return the command that serves ``app`` on ``port``.

    Parameters
    ----------
    app : Path
        The Streamlit script.
    port : int
        TCP port.
    headless : bool, default False
        Listen on 127.0.0.1 only, open no browser, watch no files and send no usage
        statistics: the settings for a server driven by a program.

    Returns
    -------
    list of str
    """
    # Through the launcher: it loads the area before the server answers, so the first visitor does not wait.
    # Static serving gives the maps their scripts (static/ beside ui/webapp/app.py), whichever folder the server
    # starts in.
    cmd = [
        sys.executable,
        "-m",
        "assetmap.ui.launch",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.enableStaticServing",
        "true",
        # Tables' own CSV export would bypass the neutralising downloads (see ui/webapp/.streamlit/config.toml).
        "--client.disableDataExport",
        "true",
    ]
    if headless:
        cmd += [
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ]
    return cmd


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing is listening on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until_healthy(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll ``url`` until it answers 200, the server exits, or the timeout passes.

    The pause between polls is ``proc.wait`` with a short timeout, so a server
    that dies is noticed at once.

    Raises
    ------
    ServerError
        When the server exits first or does not answer within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _healthy(url):
            return
        try:
            code = proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
        raise ServerError(f"The app server exited with code {code} before it was healthy:\n{_tail(log)}")
    raise ServerError(f"The app server was not healthy at {url} within {timeout_s:.0f} s:\n{_tail(log)}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server: terminate, then kill if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def run_foreground(cmd: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run a server until it exits; SIGTERM, SIGINT or SIGHUP stop it, and this, together.

    The server runs in a process group of its own, so that a signal sent to this process
    alone (``kill <pid>``) reaches it and whatever it started: the signal is passed on to
    the group, the server is given :data:`STOP_TIMEOUT_S` to stop, then killed. Nothing is
    left listening on the port once this returns.

    Parameters
    ----------
    cmd : list of str
        The server's command, e.g. from :func:`streamlit_command`.
    env : mapping, optional
        Its environment (default: this process's).

    Returns
    -------
    int
        The server's exit status; 128 + the signal's number when a signal stopped it.
    """
    received: list[int] = []
    group: list[int] = []  # the server's process group, once it is started

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        for pgid in group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signum)

    # Handlers first: a signal that comes while the server starts is passed on as soon as it has started.
    previous = {sig: signal.signal(sig, forward) for sig in _STOP_SIGNALS}
    try:
        # stdin closed: a server in a process group of its own must not wait on the terminal.
        proc = subprocess.Popen(
            cmd, env=dict(env) if env is not None else None, stdin=subprocess.DEVNULL, process_group=0
        )
        group.append(proc.pid)
        if received:
            forward(received.pop(), None)
        code = _wait_stopping(proc, received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # Whatever the server started and left behind in its group goes with it.
        for pgid in group:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
    if received:
        return 128 + received[0]
    return code if code >= 0 else 128 - code


def _wait_stopping(proc: subprocess.Popen, received: list[int]) -> int:
    """Wait for ``proc``; once a stop signal has come, kill its group if it has not stopped in time."""
    deadline: float | None = None
    while True:
        try:
            return proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            if received and deadline is None:
                deadline = time.monotonic() + STOP_TIMEOUT_S
            if deadline is not None and time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def serve(
    area: Path,
    log_dir: Path,
    *,
    app: Path = APP_SCRIPT,
    env: dict[str, str] | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[str]:
    """Run the app headless on a free port showing ``area``; yield its base URL once it is healthy.

    Parameters
    ----------
    area : Path
        Area folder (ASSETMAP_AREA).
    log_dir : Path
        Folder for the server's log (``streamlit.log``).
    app : Path
        The Streamlit script (default: the app).
    env : dict, optional
        Environment variables added or overridden.
    timeout_s : float
        Seconds the server has to become healthy.

    Yields
    ------
    str
        ``http://127.0.0.1:<port>``; the server is stopped on exit.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = log_dir / "streamlit.log"
    full_env = {**os.environ, "ASSETMAP_AREA": str(area), **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            streamlit_command(app, port, headless=True),
            cwd=app.parent,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(proc, f"{base}/_stcore/health", log, timeout_s)
        yield base
    finally:
        stop(proc)
