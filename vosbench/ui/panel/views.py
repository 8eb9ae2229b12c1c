"""The explorer's saved views: save the panel as a named view, open one, share it as a Voilà link.

Views are files of :mod:`vosbench.analysis.saved_views` in one folder, or shared in the
ledger (:mod:`vosbench.analysis.shared_views`, saved by a registered operator); this
section lists both, side by side, and shows the link. The explorer reads and applies the panel's state, so the
rules for what a view holds live in one place.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
from sqlalchemy.engine import Engine

from vosbench.analysis import saved_views, shared_views
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.saved_views import SavedView, ViewError

SHARE_ID = "view_link"
_WIDE = {"description_width": "initial"}


def share_html(view: SavedView, base_url: str) -> str:
    """A link that opens the explorer on ``view`` (in Voilà: the filter travels in the query string)."""
    href = f"{base_url or 'voila/render/notebooks/explore_payments.ipynb'}?{saved_views.query_string(view)}"
    return (f"<span id='{SHARE_ID}'>Share: <a href='{html.escape(href, quote=True)}' target='_blank'>"
            f"{html.escape(href)}</a></span>")


def page_url(environ: Mapping[str, str]) -> str:
    """The URL the page was served at, from the variables Voilà gives its kernel ("" outside Voilà)."""
    host, port, path = environ.get("SERVER_NAME"), environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME", "/")
    if not host:
        return ""
    return f"http://{host}{':' + port if port else ''}{path or '/'}"


@dataclass(frozen=True)
class Opening:
    """What the explorer opens on: the notebook's filter (None when it sets none), the view the link or the
    notebook names, and what was wrong with that view ("" when nothing): a link one character wrong still
    opens the panel, which says what to fix."""

    filter: PaymentFilter | None
    view: SavedView | None
    problem: str = ""


def opening(engine: Engine, parameters: Mapping[str, object], name: str, query: str,
            folder: Path | str | None) -> Opening:
    """The explorer's :class:`Opening` from the notebook's filter ``parameters``, the view ``name`` it names and
    the page's query string (Voilà's ``QUERY_STRING``). A view's name is looked up as every command looks it up:
    the views folder's, then the ledger's (:func:`shared_views.find`, ``ledger:NAME`` too). Parameters papermill
    was given wrongly are refused (:class:`FilterError`), as the CLI refuses them; a view or link that cannot be
    read is left out and said."""
    initial = PaymentFilter.from_parameters(parameters)
    try:
        with engine.connect() as connection:
            view = saved_views.requested(name, query, folder,
                                         lambda asked: shared_views.find(asked, connection, folder))
        problem = ""
    except ViewError as error:
        view, problem = None, str(error)
    return Opening(None if initial.is_empty else initial, view, problem)


class ViewsSection:
    """Name + Save, a list of saved views + Open, and the share link; display ``.layout``."""

    def __init__(self, folder: Path, base_url: str, engine: Engine | None = None):
        self.folder, self.base_url, self.engine = Path(folder), base_url, engine
        self.name = widgets.Text(description="Save as", placeholder="e.g. october-large-deposits", style=_WIDE,
                                 layout=widgets.Layout(width="320px"))
        self.save_button = widgets.Button(description="Save view", icon="save",
                                          tooltip=f"writes the filter and layout to {self.folder}/NAME.yaml")
        self.replace = widgets.Checkbox(description="replace a view of that name", indent=False,
                                        layout=widgets.Layout(width="auto"))
        self.saved = widgets.Dropdown(description="Saved views", options=[], style=_WIDE,
                                      layout=widgets.Layout(width="320px"))
        self.open_button = widgets.Button(description="Open view", icon="folder-open")
        self.operator = widgets.Text(description="as operator", placeholder="your login", style=_WIDE,
                                     layout=widgets.Layout(width="220px"))
        self.share_button = widgets.Button(description="Share in ledger", icon="users",
                                           tooltip="saves the view in the ledger for the team, as a new version")
        self.link = widgets.HTML()
        self.refresh()
        self.layout = widgets.VBox([
            widgets.HBox([self.name, self.save_button, self.replace, self.operator, self.share_button],
                         layout=widgets.Layout(align_items="center")),
            widgets.HBox([self.saved, self.open_button], layout=widgets.Layout(align_items="center")),
            self.link])

    def refresh(self, chosen: str | None = None) -> None:
        """List the folder's views and the ledger's shared ones again, choosing ``chosen`` when given.

        A file's value is its name; a shared view's is ``ledger:NAME`` (a file of the same name
        is listed too: they are two views).
        """
        options = [(f"{name} (file)", name) for name in saved_views.list_views(self.folder)]
        if self.engine is not None:
            with self.engine.connect() as connection:
                options += [(f"{name} (shared by {version.saved_by})", f"ledger:{name}")
                            for name, version in shared_views.latest(connection).items()]
        values = [value for _, value in options]
        self.saved.options = options
        self.saved.value = next((value for value in (chosen, f"ledger:{chosen}") if value in values),
                                values[0] if values else None)
        self.open_button.disabled = not values

    def chosen_view(self, name: str | None = None) -> SavedView:
        """The view ``name`` (default: the one chosen in the list), from the folder or the ledger."""
        value = name or self.saved.value or ""
        if value.startswith("ledger:") and self.engine is not None:
            with self.engine.connect() as connection:
                return shared_views.find(value.removeprefix("ledger:"), connection, self.folder / "-")
        return saved_views.load_view(value, self.folder)

    def share(self, view: SavedView) -> shared_views.Version:
        """Save ``view`` in the ledger as operator ``self.operator``, list it and show its link."""
        if self.engine is None:
            raise ValueError("this panel has no ledger to share views in")
        version = shared_views.share(self.engine, view, saved_by=self.operator.value.strip(), folder=self.folder,
                                     claimed_with="'as operator'")
        self.refresh(f"ledger:{view.name}")
        self.show_link(view)
        return version

    def save(self, view: SavedView) -> Path:
        """Write ``view`` (replacing a view of that name only when the box says so), list it and show its link."""
        path = saved_views.save_view(view, self.folder, replace=self.replace.value)
        self.replace.value = False  # each replacement asked for anew
        self.refresh(view.name)
        self.show_link(view)
        return path

    def show_link(self, view: SavedView) -> None:
        self.link.value = share_html(view, self.base_url)
