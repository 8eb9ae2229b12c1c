"""The explorer's saved views: save the panel as a named view, open one, share it as a Voilà link.

Views are files of :mod:`vosbench.analysis.saved_views` in one folder; this section only
lists them and shows the link. The explorer reads and applies the panel's state, so the
rules for what a view holds live in one place.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets

from vosbench.analysis import saved_views
from vosbench.analysis.saved_views import SavedView

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


class ViewsSection:
    """Name + Save, a list of saved views + Open, and the share link; display ``.layout``."""

    def __init__(self, folder: Path, base_url: str):
        self.folder, self.base_url = Path(folder), base_url
        self.name = widgets.Text(description="Save as", placeholder="e.g. october-large-deposits", style=_WIDE,
                                 layout=widgets.Layout(width="320px"))
        self.save_button = widgets.Button(description="Save view", icon="save",
                                          tooltip=f"writes the filter and layout to {self.folder}/NAME.yaml")
        self.saved = widgets.Dropdown(description="Saved views", options=[], style=_WIDE,
                                      layout=widgets.Layout(width="320px"))
        self.open_button = widgets.Button(description="Open view", icon="folder-open")
        self.link = widgets.HTML()
        self.refresh()
        self.layout = widgets.VBox([
            widgets.HBox([self.name, self.save_button], layout=widgets.Layout(align_items="center")),
            widgets.HBox([self.saved, self.open_button], layout=widgets.Layout(align_items="center")),
            self.link])

    def refresh(self, chosen: str | None = None) -> None:
        """List the folder's views again, choosing ``chosen`` when given."""
        names = saved_views.list_views(self.folder)
        self.saved.options = names
        self.saved.value = chosen if chosen in names else (names[0] if names else None)
        self.open_button.disabled = not names

    def save(self, view: SavedView) -> Path:
        """Write ``view``, list it and show its link."""
        path = saved_views.save_view(view, self.folder)
        self.refresh(view.name)
        self.show_link(view)
        return path

    def show_link(self, view: SavedView) -> None:
        self.link.value = share_html(view, self.base_url)
