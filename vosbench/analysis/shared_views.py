"""Saved views shared in the ledger: the team's views beside the YAML files of ``parameters/views/``.

A view saved in the ledger is the same YAML document a views file holds, appended to the
``saved_views`` table with who saved it and when. The table is append-only like every
audit table (guarded, chained, verified): saving a view again under its name appends a
new version, and the latest version of a name is the view. Who saves is a registered
operator (on a server ledger, the database login), so a shared view is never anonymous.

:func:`find` is the one lookup every user of a view goes through (panel, commands,
papermill): a path to a YAML file, then a view of the views folder, then one shared in
the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from vosbench.analysis import saved_views
from vosbench.analysis.saved_views import SavedView, ViewError
from vosbench.core import yaml_problem
from vosbench.ledger import database, identity, tables

_table = tables.saved_views
LEDGER_PREFIX = saved_views.LEDGER_PREFIX
"""``ledger:NAME`` names the view shared in the ledger even where the views folder has a file NAME."""


@dataclass(frozen=True)
class Version:
    """One saved version of a shared view: the view, its row id, who saved it and when (naive UTC).

    ``number`` counts the versions of this view's name: 1 for its first save. The row id
    counts the saves of every view, so it is not what a person reads as "version".
    """

    view: SavedView
    version_id: int
    number: int
    saved_by: str
    saved_at: datetime


def share(engine: Engine, view: SavedView, *, saved_by: str | None, folder: Path | str | None = None,
          claimed_with: str = "--by") -> Version:
    """Append ``view`` to the ledger's shared views as a new version, saved by operator ``saved_by``.

    On a server ledger the operator is the login (``saved_by`` may be left out); on SQLite
    it must be a registered operator. Raises the identity's error naming the fix (and
    ``claimed_with``, where the person gives their login) otherwise.
    A view of views folder ``folder`` (default ``parameters/views/``) with the same name and
    other contents is refused (see :func:`_check_not_shadowed`).
    """
    _check_not_shadowed(view, folder)
    document = yaml.safe_dump(view.to_document(), sort_keys=False, allow_unicode=True)
    saved_at = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        who = identity.acting_operator(connection, saved_by, action="shares a view", option=claimed_with)
        row_id = database.inserted_id(connection.execute(_table.insert().values(
            name=view.name, document=document, saved_by=who, saved_at=saved_at)))
        number = connection.execute(sa.select(sa.func.count()).where(_table.c.name == view.name,
                                                                       _table.c.id <= row_id)).scalar_one()
    return Version(view, row_id, number, who, saved_at)


def _check_not_shadowed(view: SavedView, folder: Path | str | None) -> None:
    """Refuse to share ``view`` under the name of a different view of the views folder.

    :func:`find` looks in the folder before the ledger, so such a shared view would never be
    what its name opens, and its versions would be shown beside the file's contents. Sharing
    the folder's view itself (the same document) is what ``views save NAME`` does, and stays allowed.
    """
    if view.name not in saved_views.list_views(folder):
        return
    try:
        same = saved_views.load_view(view.name, folder).to_document() == view.to_document()
    except ViewError:
        same = False
    if not same:
        path = Path(folder or saved_views.DEFAULT_FOLDER) / f"{view.name}.yaml"
        raise ViewError(f"view {view.name!r} is a different view in {path}, and that file is what the name opens "
                        f"(--view {view.name}, `vosbench views show {view.name}`); share this one under another name, "
                        f"or change the file and share it with `vosbench views save {view.name}`")


def _version(row, number: int) -> Version:
    try:
        document = yaml_problem.load(row.document)
    except yaml.YAMLError as error:
        raise ViewError(f"shared view {row.name!r} (version {row.id}) is not valid YAML ({yaml_problem.described(error)}); "
                        "save it again with `vosbench views save`") from None
    return Version(saved_views.from_document(document, f"shared view {row.name!r}"), row.id, number, row.saved_by,
                   row.saved_at)


def latest(connection: sa.Connection, unreadable: dict[str, str] | None = None) -> dict[str, Version]:
    """Each shared view's latest version, by name (sorted); empty on a ledger without the table.

    A latest version vosbench never wrote (no YAML, no view: a row appended by plain SQL to the append-only
    table, which no later version can take away while it is the latest) leaves its name out, and what is wrong
    with it goes to ``unreadable`` (name → message): one such row must not stop every login listing or opening
    the other views. Sharing the view again makes a readable latest version.
    """
    if not sa.inspect(connection).has_table(_table.name):
        return {}
    counted = (sa.select(sa.func.max(_table.c.id).label("id"), sa.func.count().label("number"))
               .group_by(_table.c.name).subquery())
    rows = connection.execute(sa.select(_table, counted.c.number).join(counted, counted.c.id == _table.c.id)
                              .order_by(_table.c.name))
    found = {}
    for row in rows:
        try:
            found[row.name] = _version(row, row.number)
        except ViewError as error:
            if unreadable is not None:
                unreadable[row.name] = str(error)
    return found


def history(connection: sa.Connection, name: str) -> list[Version]:
    """Every version of shared view ``name``, oldest first; a :class:`ViewError` when none is shared."""
    rows = connection.execute(sa.select(_table).where(_table.c.name == saved_views.check_name(name))
                              .order_by(_table.c.id)).all()
    if not rows:
        raise ViewError(f"no view named {name!r} is shared in this ledger; `vosbench views list` lists them")
    return [_version(row, number) for number, row in enumerate(rows, start=1)]


def is_shared(name: str, connection: sa.Connection, folder: Path | str | None = None) -> bool:
    """Whether :func:`find` opens ``name`` from the ledger (``ledger:NAME``, or a name no file of the folder has)."""
    text = str(name)
    if text.startswith(LEDGER_PREFIX):
        return True
    return not text.endswith((".yaml", ".yml")) and saved_views.check_name(text) not in saved_views.list_views(folder)


def find(name: str, connection: sa.Connection | None = None, folder: Path | str | None = None) -> SavedView:
    """The view ``name``: a YAML file when it is a path ending in .yaml, else the views folder's, else the ledger's.

    ``ledger:NAME`` is the view shared in the ledger under NAME, whatever the folder holds
    (the explorer's list names shared views so). A :class:`ViewError` names where it looked
    and the views there are.
    """
    text = str(name)
    if text.startswith(LEDGER_PREFIX):
        shared_name = text.removeprefix(LEDGER_PREFIX)
        if connection is None:
            raise ViewError(f"view {text!r} is shared in a ledger, and none is open here; give the view's file instead")
        return history(connection, shared_name)[-1].view
    if text.endswith((".yaml", ".yml")):
        return saved_views.load_view(text, folder)
    if saved_views.check_name(text) in saved_views.list_views(folder):
        return saved_views.load_view(text, folder)
    unreadable: dict[str, str] = {}
    shared = latest(connection, unreadable) if connection is not None else {}
    if text in shared:
        return shared[text].view
    if text in unreadable:
        raise ViewError(unreadable[text])
    known = sorted({*saved_views.list_views(folder), *shared})
    where = f"{saved_views.DEFAULT_FOLDER if folder is None else folder}" + (
        " or the ledger" if connection is not None else "")
    raise ViewError(f"view {text!r} is not saved in {where}; "
                    + (f"saved views: {', '.join(known)}" if known else "save one from the panel or with "
                       "`vosbench views save NAME`"))
