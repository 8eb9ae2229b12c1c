"""The panel's word on a build of its payment columns: a bar and a line, kept current from a thread.

On a large ledger the explorer's fast answers come from payment columns
(:mod:`vosbench.analysis.payment_columns`), built in the background the first time a login
opens the ledger — minutes at ten million records. Until then every answer comes from SQL and a
broad filter takes seconds; the analyst should see why, how far the build has come, and when
it is done, without pressing anything. :class:`BuildNote` shows that, polled every
:data:`POLL_SECONDS` by a daemon thread (widgets may be changed from a thread: the kernel sends
each change on), and hides itself when no build runs (unless the columns cannot be saved: then it says why).
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets
from sqlalchemy.engine import Engine

from vosbench.analysis import payment_columns
from vosbench.analysis.payment_columns import BuildProgress

POLL_SECONDS = 1.0
"""How often the note asks how far the build has come."""


class BuildNote:
    """Display ``.layout``; call :meth:`watch` after each query (the first query of a large ledger starts the build)."""

    def __init__(self) -> None:
        self.bar = widgets.IntProgress(min=0, max=100, layout=widgets.Layout(width="180px"))
        self.label = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))
        self.layout = widgets.HBox([self.bar, self.label],
                                   layout=widgets.Layout(display="none", align_items="center"))
        self._follower: threading.Thread | None = None

    def watch(self, engine: Engine) -> None:
        """Show the build of ``engine``'s columns and follow it to its end; hide the note when none runs."""
        if self._follower is not None and self._follower.is_alive():
            return
        state = payment_columns.progress(engine)
        if state is None:
            failure = payment_columns.failure(engine)
            self.layout.layout.display = "flex" if failure else "none"
            if failure:
                self._ended(False, failure)
            return
        self._show(state)
        self._follower = threading.Thread(target=self._follow, args=(engine,), name="vosbench-build-note", daemon=True)
        self._follower.start()

    def _follow(self, engine: Engine) -> None:
        while (state := payment_columns.progress(engine)) is not None:
            self._show(state)
            threading.Event().wait(POLL_SECONDS)
        self._ended(payment_columns.current(engine, build_in_background=False) is not None,
                    payment_columns.failure(engine))

    def _show(self, state: BuildProgress) -> None:
        self.layout.layout.display = "flex"
        self.bar.bar_style = "info"
        self.bar.value = round(100 * state.share)
        if state.read >= state.expected:
            doing = "all records read; sorting and saving the columns"
        else:
            doing = f"{state.read:,} of about {state.expected:,} records read"
        self.label.value = (f"<span style='color: #1F4E79;'>Preparing fast answers for this ledger: {doing} "
                            f"({self.bar.value}%). Until then answers come from the database, and broad filters "
                            "take longer.</span>")

    def _ended(self, ready: bool, failure: str | None) -> None:
        self.bar.value = 100
        self.bar.bar_style = "success" if ready else "warning"
        why = (f": they cannot be saved ({html.escape(failure)}); set VOSBENCH_CACHE to a folder you may write to "
               "and restart the kernel" if failure else "")
        self.label.value = ("<span style='color: #2E7D32;'>Fast answers are ready: the panel now answers from this "
                            "ledger's payment columns.</span>" if ready else
                            f"<span style='color: #9C5700;'>The fast columns could not be prepared{why}; the panel "
                            "keeps answering from the database (exact, slower on broad filters).</span>")
