"""Where the ledger lives: ``--db URL``, else ``VOSBENCH_DB``, else the embedded default.

The embedded default is an SQLite file in the user's data folder, so every command
finds the same ledger whatever the current directory is:
``$VOSBENCH_HOME/ledger.sqlite`` if ``VOSBENCH_HOME`` is set, else
``$XDG_DATA_HOME/vosbench/ledger.sqlite``, else ``~/.local/share/vosbench/ledger.sqlite``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DB = "VOSBENCH_DB"
ENV_HOME = "VOSBENCH_HOME"


def data_home() -> Path:
    """The folder holding the embedded ledger (created on demand by the store)."""
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "vosbench"


def default_db_url() -> str:
    """The embedded SQLite ledger's URL."""
    return f"sqlite:///{(data_home() / 'ledger.sqlite').resolve()}"


def resolve_db_url(cli_value: str | None = None) -> str:
    """Pick the ledger URL: the command-line value, then ``VOSBENCH_DB``, then the default."""
    for candidate in (cli_value, os.environ.get(ENV_DB)):
        if candidate and candidate.strip():
            return candidate.strip()
    return default_db_url()


def is_default(url: str) -> bool:
    """True when ``url`` is the embedded default ledger (the one the demo may build)."""
    return url == default_db_url()


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (text that is not a URL is returned as is)."""
    import sqlalchemy as sa  # here, not at the top: most commands never show a URL

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
