"""The explorer's pending-approvals queue: maker-checker from the notebook.

Lists the entries waiting for a second operator (:func:`vosbench.ledger.approvals.requests`)
and lets a checker approve or reject one, with their name and, for a rejection, a
reason. Every rule stays in :mod:`vosbench.ledger.approvals` (a maker cannot approve their own
request, a rejection needs a reason, a request is decided once); the panel only shows
its refusals as messages. Nothing a checker does here can raise into the notebook.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd
from sqlalchemy.engine import Engine

from vosbench.core import money, timeshow
from vosbench.ledger import approvals
from vosbench.ui.panel import markup

QUEUE_ID = "pending_approvals"
_WIDE = {"description_width": "initial"}
_log = logging.getLogger(__name__)


def exact(minor: int) -> str:
    """An amount as a checker must see it: two places, or all four when the amount has them."""
    return money.format_money(minor, 2 if minor % 100 == 0 else 4)


def queue_html(pending) -> str:
    """The pending requests as a table (amounts and thresholds as exact decimals; 'none set' where the currency and kind
    have none, so that every entry waits), or a note that none wait."""
    if pending.empty:
        return markup.message("empty", "No entries are waiting for approval.")
    header = ("request", "requested", "maker", "account", "kind", "amount", "threshold", "reference", "reason")
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in (
            row.request_id, timeshow.shown(row.requested_at), row.maker, row.account, row.kind,
            f"{exact(row.amount)} {row.currency}",
            "none set" if row.threshold == approvals.NO_THRESHOLD else exact(row.threshold),
            row.reference, row.reason)) + "</tr>"
        for row in pending.itertuples())
    head = "".join(f"<th>{name}</th>" for name in header)
    return f"<table id='T_{QUEUE_ID}'><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


class ApprovalQueue:
    """Pending requests with Approve and Reject; display ``.layout``. ``pending`` is what is listed.

    ``on_posted`` is called after an approval posts its record, so the explorer around the
    queue can query again and show the new payment in its grid, counts and charts.
    """

    def __init__(self, engine: Engine, on_posted: Callable[[], object] | None = None):
        self.engine = engine
        self.on_posted = on_posted
        self.table = widgets.HTML()
        self.request = widgets.Dropdown(description="Request", options=[], style=_WIDE,
                                        layout=widgets.Layout(width="420px"))
        self.checker = widgets.Text(description="Checker", placeholder="your operator login", style=_WIDE)
        self.reason = widgets.Text(description="Reason", placeholder="required to reject", style=_WIDE,
                                   layout=widgets.Layout(width="420px"))
        self.approve_button = widgets.Button(description="Approve", icon="check", button_style="success",
                                             tooltip="post the entry to the ledger with you as approver")
        self.reject_button = widgets.Button(description="Reject", icon="times", button_style="danger",
                                            tooltip="refuse the entry; nothing reaches the ledger")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.status = widgets.HTML()
        self.pending: pd.DataFrame | None = None
        self.approve_button.on_click(lambda _: self.approve())
        self.reject_button.on_click(lambda _: self.reject())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.layout = widgets.VBox([
            self.table,
            widgets.HBox([self.request, self.checker], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.reason, self.approve_button, self.reject_button, self.refresh_button],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            self.status])
        self.refresh()

    def refresh(self) -> bool:
        """Read the pending requests again (another checker may have decided some)."""
        return self._guarded(self._list, "The queue cannot be read")

    def approve(self) -> bool:
        """Approve the chosen request as the checker; it posts to the ledger."""
        def action() -> str:
            request_id = self._chosen()
            payment_id = approvals.approve(self.engine, request_id, checker=self.checker.value)
            return f"Request {request_id} approved by {self.checker.value.strip()}; posted as payment {payment_id}."
        posted = self._decide(action, "Not approved")
        if posted and self.on_posted is not None:
            self.on_posted()
        return posted

    def reject(self) -> bool:
        """Reject the chosen request as the checker, with the reason typed."""
        def action() -> str:
            request_id = self._chosen()
            approvals.reject(self.engine, request_id, checker=self.checker.value, reason=self.reason.value)
            return f"Request {request_id} rejected by {self.checker.value.strip()}: {self.reason.value.strip()}"
        return self._decide(action, "Not rejected")

    def _chosen(self) -> int:
        if self.request.value is None:
            raise approvals.ApprovalError("no request is chosen; pick one of the pending requests")
        return self.request.value

    def _list(self) -> None:
        self.pending = pending = approvals.requests(self.engine)
        self.table.value = queue_html(pending)
        keep = self.request.value
        ids = pending["request_id"].tolist()
        self.request.options = [(f"#{row.request_id} {row.kind} {exact(row.amount)} {row.currency} "
                                 f"to {row.account} by {row.maker}", row.request_id)
                                for row in pending.itertuples()]
        self.request.value = keep if keep in ids else (ids[0] if ids else None)

    def _decide(self, action: Callable[[], str], failure: str) -> bool:
        done: list[str] = []
        if not self._guarded(lambda: done.append(action()), failure):
            return False
        self.reason.value = ""
        self._guarded(self._list, "The queue cannot be read")
        self.status.value = markup.message("info", done[0])
        return True

    def _guarded(self, action: Callable[[], None], failure: str) -> bool:
        try:
            action()
            return True
        except ValueError as error:  # ApprovalError, LedgerError: a refusal that says its fix
            self.status.value = markup.message("error", f"{failure}: {error}")
        except Exception as error:  # the panel's boundary: a click never raises into the notebook
            self.status.value = markup.failure(failure, error, _log)
        return False
