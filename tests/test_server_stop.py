"""``assetmap serve`` stops as a whole: a signal to the command leaves no server process and no open port."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assetmap import server, settings

REPO = Path(__file__).resolve().parent.parent


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> set[int]:
    """Return the processes whose parent is ``pid``, and theirs (from /proc)."""
    found: set[int] = set()
    wanted = {pid}
    while wanted:
        parents, wanted = wanted, set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid in parents and int(entry.name) not in found:
                found.add(int(entry.name))
                wanted.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Return whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: set[int], timeout_s: float) -> None:
    """Wait until each process has ended: a pidfd turns readable when its process exits."""
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # already gone
        try:
            select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(fd)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_stops_the_whole_server(tmp_path: Path, signum: signal.Signals):
    port = server.free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSETMAP_AREA": str(settings.demo_area_path)}
    command = [sys.executable, "-c", "import sys; from assetmap.cli import main; sys.exit(main(sys.argv[1:]))"]
    with log.open("wb") as out:
        # A session of its own: the signal goes to the command alone, as `kill <pid>` sends it.
        proc = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children: set[int] = set()
    try:
        server.wait_until_healthy(proc, f"http://127.0.0.1:{port}", log)
        children = _children(proc.pid)
        assert children, "the server runs as a child of the command"
        proc.send_signal(signum)
        status = proc.wait(timeout=30)
        _wait_gone(children, 5)  # reparented children end a moment after the command
        assert not [pid for pid in children if _alive(pid)], "a server process outlived the command"
        assert not _port_open(port), "the port still answers"
        assert status == 128 + signum
    finally:
        # On failure, stop what this test started: the command and the server processes it ran.
        for pid in children | (_children(proc.pid) if proc.poll() is None else set()):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
