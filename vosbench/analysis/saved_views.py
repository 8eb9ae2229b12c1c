"""Saved views: a named :class:`~vosbench.analysis.filters.PaymentFilter` plus the panel's layout choices.

A view is a small YAML file in a views folder (``parameters/views/`` by default, or the
analyst's own), so it can be reviewed, shared and versioned like any parameter set::

    name: october-large-deposits
    description: Deposits of 1,000 or more in October
    filter: {start: '2026-10-01', end: '2026-10-31', kinds: [deposit], min_amount: '1000.00'}
    layout: {sort: amount, descending: true, grain: week, by: channel}

The same view opens the explorer (in JupyterLab or Voilà, where :func:`from_query_string`
reads it from the URL: ``?view=october-large-deposits`` or the filter's own fields), and
scopes a report: :func:`view_filter` gives the filter a command or papermill run uses.
Files are read strictly — an unknown key or a bad value is a :class:`ViewError` naming
the file, the key and the fix — and money is decimal text, never a float.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import yaml

from vosbench.analysis import explore, trends
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.core import resources, yaml_problem
from vosbench.core.errors import VosbenchError

LEDGER_PREFIX = "ledger:"
"""How a name says it is a view shared in the ledger (:mod:`vosbench.analysis.shared_views`), whatever the
views folder holds."""

DEFAULT_FOLDER = resources.parameters("views")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_KEYS = ("name", "description", "filter", "layout")
_MONEY_KEYS = ("min_amount", "max_amount")


class ViewError(VosbenchError, ValueError):
    """A view that cannot be saved, found or read; the message names it and the fix."""


@dataclass(frozen=True)
class Layout:
    """The panel's choices a view keeps: the grid's page, order and columns, the trend's grain and split."""

    page_size: int = 50
    sort: str = "occurred_at"
    descending: bool = True
    columns: tuple[str, ...] = ()
    grain: str = "month"
    by: str = "kind"

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.page_size, bool) or not isinstance(self.page_size, int) \
                or not 1 <= self.page_size <= explore.MAX_PAGE_SIZE:
            problems.append(f"page_size: {self.page_size!r} is not a page size; give 1 to {explore.MAX_PAGE_SIZE}")
        if self.sort not in explore.SORTABLE:
            problems.append(f"sort: {self.sort!r} is not sortable; use one of: {', '.join(explore.SORTABLE)}")
        if not isinstance(self.descending, bool):
            problems.append(f"descending: {self.descending!r} is not true or false")
        object.__setattr__(self, "columns", tuple(self.columns or ()))
        unknown = [name for name in self.columns if name not in explore.ROW_COLUMNS]
        if unknown:
            problems.append(f"columns: {', '.join(map(str, unknown))} are not grid columns; "
                            f"use: {', '.join(explore.ROW_COLUMNS)}")
        if self.grain not in trends.GRAINS:
            problems.append(f"grain: {self.grain!r} is not a grain; use one of: {', '.join(trends.GRAINS)}")
        if self.by not in trends.DIMENSIONS:
            problems.append(f"by: {self.by!r} is not a split; use one of: {', '.join(trends.DIMENSIONS)}")
        if problems:
            raise ViewError("; ".join(problems))

    @classmethod
    def from_parameters(cls, values: Mapping[str, object]) -> Layout:
        """A layout from YAML or query-string values (text is converted; unknown keys are errors)."""
        known = [item.name for item in fields(cls)]
        unknown = [key for key in values if key not in known]
        if unknown:
            raise ViewError(f"layout: {', '.join(map(repr, unknown))} not known; use: {', '.join(known)}")
        given: dict[str, Any] = dict(values)
        if isinstance(given.get("page_size"), str) and given["page_size"].strip().isdigit():
            given["page_size"] = int(given["page_size"])
        if isinstance(given.get("descending"), str):
            given["descending"] = {"true": True, "yes": True, "1": True, "false": False, "no": False,
                                   "0": False}.get(given["descending"].strip().lower(), given["descending"])
        if isinstance(given.get("columns"), str):
            given["columns"] = tuple(word.strip() for word in given["columns"].split(",") if word.strip())
        return cls(**given)

    def to_parameters(self) -> dict[str, object]:
        return {"page_size": self.page_size, "sort": self.sort, "descending": self.descending,
                "columns": list(self.columns), "grain": self.grain, "by": self.by}


@dataclass(frozen=True)
class SavedView:
    """A named filter and layout; ``name`` is also its file name (letters, digits, ``-_.``)."""

    name: str
    filter: PaymentFilter = field(default_factory=PaymentFilter)
    layout: Layout = field(default_factory=Layout)
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name)

    def to_document(self) -> dict[str, object]:
        """The view as the YAML document :func:`save_view` writes (only the filter fields in use)."""
        empty = PaymentFilter().to_parameters()
        used = {key: value for key, value in self.filter.to_parameters().items() if value != empty[key]}
        return {"name": self.name, "description": self.description, "filter": used,
                "layout": self.layout.to_parameters()}


def check_name(name: str) -> str:
    """``name`` when it can name a view file; otherwise a :class:`ViewError` saying what may be used."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ViewError(f"view name {name!r} cannot be used; give 1-80 letters, digits, '-', '_' or '.', "
                        "starting with a letter or digit, e.g. october-large-deposits")
    return name


def from_document(document: object, source: str) -> SavedView:
    """A view from a parsed YAML document; ``source`` (a file name) is named in every problem."""
    if not isinstance(document, dict):
        raise ViewError(f"{source}: a view is a mapping with {', '.join(_KEYS)}; see parameters/views/")
    unknown = [key for key in document if key not in _KEYS]
    if unknown:
        raise ViewError(f"{source}: {', '.join(map(repr, unknown))} not known; a view has {', '.join(_KEYS)}")
    _check_money_is_quoted(document.get("filter"), source)
    try:
        return SavedView(name=str(document.get("name") or ""), description=str(document.get("description") or ""),
                         filter=PaymentFilter.from_parameters(document.get("filter") or {}),
                         layout=Layout.from_parameters(document.get("layout") or {}))
    except (FilterError, ViewError, TypeError) as error:
        raise ViewError(f"{source}: {error}") from None


def _check_money_is_quoted(values: object, source: str) -> None:
    """Refuse an amount YAML read as a number: it reads 010 as 8, 0x10 as 16 and 1:30 as 90, so money is quoted text.

    (A blank amount, in a file or a URL, is refused by the filter itself: :func:`~vosbench.analysis.filters.amount_bound`.)
    """
    if not isinstance(values, dict):
        return
    for key in _MONEY_KEYS:
        value = values.get(key)
        if value is not None and not isinstance(value, str):
            raise ViewError(f"{source}: filter {key} is an unquoted YAML value (read as {value!r}); money in a view "
                            f"is quoted decimal text: write e.g. {key}: '1000.00'")


# --- a folder of views ------------------------------------------------------------------------

def _folder(folder: Path | str | None) -> Path:
    return Path(folder) if folder else DEFAULT_FOLDER


def list_views(folder: Path | str | None = None) -> list[str]:
    """The names of the views in ``folder`` (default ``parameters/views/``), sorted."""
    found = _folder(folder)
    return sorted(path.stem for path in found.glob("*.yaml")) if found.is_dir() else []


def save_view(view: SavedView, folder: Path | str | None = None, *, replace: bool = False) -> Path:
    """Write ``view`` as ``<folder>/<name>.yaml`` and return the path.

    Another view already saved under the name is kept, and a :class:`ViewError` says so,
    unless ``replace`` says to replace it: two analysts saving one name at the same moment
    must not both be told "saved" while one view is lost. The file appears whole or not at
    all (written beside it, then linked or renamed into place), so a reader never sees half
    a view. Saving the very same view again is no change.
    """
    target = _folder(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{view.name}.yaml"
    text = yaml.safe_dump(view.to_document(), sort_keys=False, allow_unicode=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target, prefix=f".{view.name}.", suffix=".tmp",
                                     delete=False) as written:
        written.write(text)
    try:
        if replace:
            os.replace(written.name, path)
            return path
        try:
            _place(written.name, path)
        except FileExistsError:
            if _saved_text(path) != text:
                raise ViewError(f"a different view named {view.name!r} is already saved in {target}; choose another "
                                "name, or tick 'replace a view of that name' to replace it") from None
        return path
    finally:
        Path(written.name).unlink(missing_ok=True)


_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS)
"""What ``link`` fails with on a file system without hard links (FAT, many network shares)."""


def _place(written: str, path: Path) -> None:
    """Give the whole ``written`` file the name ``path``, or raise FileExistsError when the name is taken.

    A hard link does both at once. A file system without hard links gets the name claimed by an
    exclusive create, then the whole file renamed over the claim: a reader meanwhile sees an empty
    file, which :func:`load_view` and :func:`_saved_text` take for a view not yet saved.
    """
    try:
        os.link(written, path)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(written, path)


def _saved_text(path: Path) -> str:
    """The text of the view file ``path``, once whoever claimed its name has written it (see :func:`_place`)."""
    for _wait in range(50):
        text = path.read_text(encoding="utf-8")
        if text:
            return text
        time.sleep(0.02)
    return text


def load_view(name: str, folder: Path | str | None = None) -> SavedView:
    """The view ``name`` of ``folder``, or the YAML file ``name`` when it is a path ending in .yaml."""
    given_file = str(name).endswith((".yaml", ".yml"))
    path = Path(name) if given_file else _folder(folder) / f"{check_name(name)}.yaml"
    if not path.is_file() or not path.stat().st_size:  # an empty file: a name claimed, its view not yet written
        known = list_views(folder)
        hint = f"saved views: {', '.join(known)}" if known else f"no view is saved in {_folder(folder)} yet"
        if given_file:
            raise ViewError(f"view file {path} {'is empty' if path.is_file() else 'does not exist'}; give the YAML "
                            f"file of a saved view, or a view's name ({hint})")
        raise ViewError(f"view {name!r} is not saved in {path.parent}; {hint}")
    try:
        document = yaml_problem.load(path.read_bytes())
    except yaml.YAMLError as error:
        raise ViewError(f"{path.name} is not valid YAML ({yaml_problem.described(error)}); fix the file or save the view again") from None
    return from_document(document, path.name)


def view_filter(name: str, folder: Path | str | None = None) -> PaymentFilter:
    """The filter of view ``name``: what a report scoped by ``--view NAME`` or papermill uses."""
    return load_view(name, folder).filter


# --- URLs ------------------------------------------------------------------------------------

def query_string(view: SavedView) -> str:
    """``view`` as a URL query string: its name, its filter's fields in use and its layout."""
    document: dict[str, Any] = view.to_document()
    pairs: list[tuple[str, str]] = [("view", view.name)]
    for key, value in {**document["filter"], **document["layout"]}.items():
        pairs.append((key, ",".join(map(str, value)) if isinstance(value, list) else str(value).lower()
                      if isinstance(value, bool) else str(value)))
    return urlencode(pairs)


def from_query_string(text: str, folder: Path | str | None = None,
                      find: Callable[[str], SavedView] | None = None) -> SavedView | None:
    """The view a URL asks for (Voilà's ``QUERY_STRING``), or None when it names no filter or view.

    ``view=NAME`` starts from the view ``find`` gives for NAME (default: ``folder``'s file; the
    explorer's looks in the ledger too, :func:`vosbench.analysis.shared_views.find`); filter and
    layout fields in the query override it, or make the view themselves (a link made by
    :func:`query_string` carries them all, so it opens where the view is not saved too). Unknown
    keys are errors.
    """
    pairs = dict(parse_qsl(text.lstrip("?"), keep_blank_values=True))
    pairs.pop("voila-template", None)  # Voilà's own
    if not pairs:
        return None
    _check_money_is_quoted(pairs, "the URL")
    name = pairs.pop("view", "")
    base = SavedView(check_name(name.removeprefix(LEDGER_PREFIX)) if name else "shared")
    if name:
        try:
            base = (find or (lambda asked: load_view(asked, folder)))(name)
        except ViewError:
            if not pairs:  # a bare ?view=NAME must name a view there is
                raise
    filter_keys = set(PaymentFilter().to_parameters())
    layout_keys = {item.name for item in fields(Layout)}
    unknown = [key for key in pairs if key not in filter_keys | layout_keys]
    if unknown:
        raise ViewError(f"the URL's {', '.join(map(repr, unknown))} not known; give view=NAME, filter fields "
                        f"({', '.join(sorted(filter_keys))}) or layout fields ({', '.join(sorted(layout_keys))})")
    try:
        chosen = PaymentFilter.from_parameters(
            {**base.filter.to_parameters(), **{k: v for k, v in pairs.items() if k in filter_keys}})
    except FilterError as error:
        raise ViewError(f"the URL's filter: {error}{_plus_hint(text)}") from None
    layout = Layout.from_parameters({**base.layout.to_parameters(),
                                     **{k: v for k, v in pairs.items() if k in layout_keys}})
    return SavedView(base.name, chosen, layout, base.description)


def _plus_hint(text: str) -> str:
    """A URL query reads a ``+`` as a space, so ``timezone=Etc/GMT+12`` arrives as 'Etc/GMT 12': say how to write it."""
    if "+" not in text:
        return ""
    return "; a + in a URL query is read as a space: write it as %2B (e.g. timezone=Etc/GMT%2B12)"


def requested(name: str, query: str, folder: Path | str | None = None,
              find: Callable[[str], SavedView] | None = None) -> SavedView | None:
    """The view a notebook is asked to open: the URL's (Voilà's ``QUERY_STRING``), else the parameter ``name``;
    a name is looked up by ``find`` (as :func:`from_query_string`)."""
    if (asked := from_query_string(query, folder, find)) is not None:
        return asked
    return ((find or (lambda asked: load_view(asked, folder)))(name)) if name else None
