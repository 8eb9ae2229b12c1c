"""A notebook page whose ledger cannot be opened: the reason and its fix in the page, not a failed cell.

Voilà shows a cell that raised as "There was an error when executing cell [2]" and nothing
more; JupyterLab shows a traceback. An analyst whose ledger URL is wrong, whose server is down,
whose login may not read the ledger or whose ledger is held by an upgrade needs the reason and
what to do instead. :func:`opened` runs a page's opening and turns what opening a ledger can
raise — :class:`~vosbench.ledger.database.StoreError` and the database's own errors, said as
every command says them (:func:`~vosbench.ledger.database.explained`) — into :class:`Unopened`,
which a notebook displays like the page it stands for. Anything else is a defect and is raised.
A page of several cells subclasses it: its first cell shows the reason, the others
:meth:`Unopened.absent` (a short note, not a failed cell each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import ipywidgets as widgets

from vosbench.ledger import database
from vosbench.ui.panel import markup

Page = TypeVar("Page")


@dataclass(frozen=True)
class Unopened:
    """The stand-in of a page whose ledger could not be opened; display ``.widget`` (or ``.layout``)."""

    what: str
    reason: str

    @property
    def widget(self) -> widgets.HTML:
        return widgets.HTML(markup.message("error", f"The {self.what} cannot be opened: {self.reason}."))

    @property
    def layout(self) -> widgets.HTML:
        return self.widget

    def absent(self, *_given: object, **_named: object) -> widgets.HTML:
        """What a later cell of the page shows in place of its part (whatever it was asked): a pointer to the
        reason, which the page's first cell shows."""
        return widgets.HTML(markup.message("info", f"Not shown: the {self.what} could not be opened (the reason is "
                                                    "above)."))


def opened(open_page: Callable[[], Page], what: str, stand_in: type[Unopened] = Unopened) -> Page | Unopened:
    """``open_page()``, or ``stand_in`` (an :class:`Unopened`) saying why the ledger it opens cannot be opened
    (``what``: the page)."""
    try:
        return open_page()
    except database.StoreError as error:
        return stand_in(what, str(error).rstrip("."))
    except Exception as error:
        said = database.explained(error, markup.PAGE_URL)
        if said is None:
            raise
        return stand_in(what, said)
