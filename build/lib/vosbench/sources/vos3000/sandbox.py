"""A private, throwaway MariaDB server for the tests and the benchmark.

Debian's ``mariadb-server`` does not start by itself here (no systemd), and a test must
never touch a server it did not start. :class:`LocalMariaDB` makes a data folder in a
temporary directory, starts ``mariadbd`` on a free port of 127.0.0.1 with its output
redirected to a log file (else it would hold the caller's pipe), waits for
``mariadb-admin ping`` and creates a user with a password, so the sync connects over TCP
exactly as it would to a production VOS3000 database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USER, PASSWORD = "vosbench", "vosbench-test"


class ServerUnavailable(RuntimeError):
    """MariaDB is not installed or did not start; the message says how to fix it."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _binary(name: str) -> str:
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"]))
    if path is None:
        raise ServerUnavailable(f"{name} not found; install Debian's mariadb-server "
                                "(`apt-get install mariadb-server`, or run `bash .ci/setup --test`)")
    return path


class LocalMariaDB:
    """Start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix="vosbench-mariadb-"))
        self.datadir = self.root / "data"
        self.socket = self.root / "mariadb.sock"
        self.log = self.root / "mariadbd.log"
        self.port = 0
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> LocalMariaDB:
        install, server, admin = (_binary("mariadb-install-db"), _binary("mariadbd"),
                                  _binary("mariadb-admin"))
        self.datadir.mkdir(parents=True, exist_ok=True)
        owner = ["--user=mysql"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.root, "mysql")
            shutil.chown(self.datadir, "mysql")
        subprocess.run([install, "--no-defaults", *owner, f"--datadir={self.datadir}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=timeout)
        self.port = _free_port()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [server, "--no-defaults", *owner, f"--datadir={self.datadir}", f"--socket={self.socket}",
                 "--bind-address=127.0.0.1", f"--port={self.port}", "--skip-name-resolve",
                 "--local-infile=1", "--key-buffer-size=256M", "--max-allowed-packet=64M",
                 f"--pid-file={self.root / 'mariadbd.pid'}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while subprocess.run([admin, "--no-defaults", f"--socket={self.socket}", "-uroot", "ping"],
                             capture_output=True).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerUnavailable(f"mariadbd did not start; its log {self.log} says:\n"
                                        + self.log.read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        self.sql(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';"
                 f"GRANT ALL ON *.* TO '{USER}'@'127.0.0.1'; FLUSH PRIVILEGES;")
        return self

    def sql(self, statements: str) -> None:
        """Run statements as root over the socket (setup only: users, databases)."""
        subprocess.run([_binary("mariadb"), "--no-defaults", f"--socket={self.socket}", "-uroot",
                        "-e", statements], check=True, capture_output=True)

    def url(self, database: str, *, password: bool = True) -> str:
        """A SQLAlchemy URL (pymysql driver) to ``database`` on this server."""
        secret = f":{PASSWORD}" if password else ""
        return f"mysql+pymysql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalMariaDB:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
