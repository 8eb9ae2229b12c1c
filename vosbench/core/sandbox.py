"""Private, throwaway database servers for the tests and the benchmarks: MariaDB and PostgreSQL.

Debian's ``mariadb-server`` and ``postgresql`` do not start by themselves here (no
systemd), and a test must never touch a server it did not start. Each class makes a
data folder in a temporary directory, starts the server on a free port of 127.0.0.1
with its output in a log file (else it would hold the caller's pipe), waits until it
answers and gives an administrator with a password, so that clients connect over TCP
exactly as they would to a production server. PostgreSQL refuses to run as root: its
programs run as the ``postgres`` user through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USER, PASSWORD = "vosbench", "vosbench-test"


class ServerUnavailable(RuntimeError):
    """A server is not installed or did not start; the message says how to fix it."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _binary(name: str, package: str, *folders: str) -> str:
    path = shutil.which(name, path=os.pathsep.join([*folders, os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"]))
    if path is None:
        raise ServerUnavailable(f"{name} not found; install Debian's {package} "
                                f"(`apt-get install {package}`, or run `bash .ci/setup --test`)")
    return path


def _wait(ready, process: subprocess.Popen, log: Path, name: str, timeout: float, stop) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            raise ServerUnavailable(f"{name} did not start; its log {log} says:\n"
                                    + (log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"))
        time.sleep(0.2)


class _LocalServer:
    """What both servers share: a temporary root, a free port, stop and the context manager."""

    name = "server"

    def __init__(self, root: Path | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix=f"vosbench-{self.name}-"))
        self.datadir = self.root / "data"
        self.log = self.root / f"{self.name}.log"
        self.port = 0
        self.process: subprocess.Popen | None = None

    def _own(self, user: str, *folders: Path) -> None:
        if os.geteuid() == 0:
            for folder in (self.root, self.datadir, *folders):
                shutil.chown(folder, user)

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

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


class LocalMariaDB(_LocalServer):
    """A MariaDB server; :data:`USER` is an administrator that may also create users and grant."""

    name = "mariadb"
    dialect = "mysql"

    def __init__(self, root: Path | None = None):
        super().__init__(root)
        self.socket = self.root / "mariadb.sock"

    def start(self, timeout: float = 60.0) -> LocalMariaDB:
        install = _binary("mariadb-install-db", "mariadb-server")
        server = _binary("mariadbd", "mariadb-server")
        admin = _binary("mariadb-admin", "mariadb-server")
        self.datadir.mkdir(parents=True, exist_ok=True)
        # its own folder for temporary tables: files in the shared /tmp may be swept away
        # while a query still uses them (seen as "Error on delete of '/tmp/#sql-temptable-…'")
        (self.root / "tmp").mkdir(exist_ok=True)
        owner = ["--user=mysql"] if os.geteuid() == 0 else []
        self._own("mysql", self.root / "tmp")
        subprocess.run([install, "--no-defaults", *owner, f"--datadir={self.datadir}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=timeout)
        self.port = _free_port()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [server, "--no-defaults", *owner, f"--datadir={self.datadir}", f"--socket={self.socket}",
                 f"--tmpdir={self.root / 'tmp'}", "--bind-address=127.0.0.1", f"--port={self.port}",
                 "--skip-name-resolve",
                 "--local-infile=1", "--key-buffer-size=256M", "--max-allowed-packet=64M",
                 f"--pid-file={self.root / 'mariadbd.pid'}"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ping = [admin, "--no-defaults", f"--socket={self.socket}", "-uroot", "ping"]
        _wait(lambda: subprocess.run(ping, capture_output=True).returncode == 0,
              self.process, self.log, "mariadbd", timeout, self.stop)
        self.sql(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';"
                 f"GRANT ALL ON *.* TO '{USER}'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;")
        return self

    def sql(self, statements: str) -> str:
        """Run statements as root over the socket (setup only: users, databases); their output."""
        return subprocess.run([_binary("mariadb", "mariadb-client"), "--no-defaults", f"--socket={self.socket}",
                               "-uroot", "-N", "-e", statements], check=True, capture_output=True, text=True).stdout

    def create_database(self, database: str) -> str:
        """A new empty database; the administrator's URL to it."""
        self.sql(f"CREATE DATABASE {database}")
        return self.url(database)

    def url(self, database: str, *, password: bool = True, user: str = USER, secret: str = PASSWORD) -> str:
        """A SQLAlchemy URL (pymysql driver) to ``database`` on this server."""
        return f"mysql+pymysql://{user}{':' + secret if password else ''}@127.0.0.1:{self.port}/{database}"


class LocalPostgreSQL(_LocalServer):
    """A PostgreSQL server; :data:`USER` is a superuser with a password (TCP asks for it)."""

    name = "postgresql"
    dialect = "postgresql"

    def _run(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*as_postgres, *command], capture_output=True, text=True, **kwargs)

    def _bin(self, name: str) -> str:
        return _binary(name, "postgresql", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))

    def start(self, timeout: float = 60.0) -> LocalPostgreSQL:
        initdb, pg_ctl = self._bin("initdb"), self._bin("pg_ctl")
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._own("postgres")
        secret = self.root / "password"
        secret.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(secret, "postgres")
        made = self._run(initdb, "-D", str(self.datadir), "-U", USER, f"--pwfile={secret}", "--no-sync",
                         "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                         timeout=timeout)
        if made.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {made.stderr.strip()[-1500:]}")
        self.port = _free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        # -l sends the server's output to the log, so it holds no pipe of ours; -w waits until it answers
        started = self._run(pg_ctl, "-D", str(self.datadir), "-l", str(self.log), "-o", options,
                            "-w", "-t", str(int(timeout)), "start", timeout=timeout + 5)
        if started.returncode != 0:
            log_text = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else started.stderr
            self.stop()
            raise ServerUnavailable(f"postgres did not start; its log says:\n{log_text}")
        return self

    def sql(self, statements: str, database: str = "postgres") -> str:
        """Run statements as the superuser over the socket (setup only); their output."""
        done = self._run(self._bin("psql"), "-h", str(self.root), "-p", str(self.port), "-U", USER,
                         "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", statements)
        if done.returncode != 0:
            raise RuntimeError(f"psql: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, database: str) -> str:
        """A new empty database; the superuser's URL to it."""
        self.sql(f"CREATE DATABASE {database}")
        return self.url(database)

    def url(self, database: str, *, password: bool = True, user: str = USER, secret: str = PASSWORD) -> str:
        """A SQLAlchemy URL (psycopg 3 driver) to ``database`` on this server."""
        return f"postgresql+psycopg://{user}{':' + secret if password else ''}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run(self._bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop", timeout=60)
        super().stop()
