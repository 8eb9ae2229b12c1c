"""The explorer's memory: the last filter and layout queried on each ledger, kept between sessions.

Kept as a saved view (:mod:`vosbench.analysis.saved_views`) named after the ledger's URL
(password hidden, hashed), in the user's state folder — so the panel reopens where the
analyst left that ledger, and another ledger keeps its own. A memory that cannot be
read is ignored (and logged): it must never stop the panel from opening.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from sqlalchemy.engine import Engine

from vosbench.analysis import saved_views
from vosbench.analysis.saved_views import SavedView

_log = logging.getLogger(__name__)


def default_folder() -> Path:
    """``$XDG_STATE_HOME/vosbench/last-views`` (``~/.local/state`` when unset)."""
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "vosbench" / "last-views"


def name_for(engine: Engine) -> str:
    """The memory's view name for ``engine``'s ledger (its URL without the password, hashed)."""
    url = engine.url.render_as_string(hide_password=True)
    return "last-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def recall(folder: Path, engine: Engine) -> SavedView | None:
    """The view last queried on this ledger, or None (never kept, or unreadable)."""
    name = name_for(engine)
    if not (Path(folder) / f"{name}.yaml").is_file():
        return None
    try:
        return saved_views.load_view(name, folder)
    except saved_views.ViewError:
        _log.warning("explorer memory %s/%s.yaml cannot be read; starting from the latest month", folder, name)
        return None


def remember(folder: Path, engine: Engine, view: SavedView) -> None:
    """Keep ``view`` (renamed for this ledger) as the one to reopen with."""
    saved_views.save_view(SavedView(name_for(engine), view.filter, view.layout,
                                    f"last view queried on {engine.url.render_as_string(hide_password=True)}"),
                          folder, replace=True)
