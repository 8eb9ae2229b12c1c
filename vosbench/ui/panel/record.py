"""The explorer's record form: enter one payment from the workbench, under the same rules as ``vosbench record``.

Kind, account (completed over the account labels), amount as exact decimal text,
method, channel, reference, memo and reason go to :func:`vosbench.ledger.approvals.submit`,
the one door for people's entries: the operator must be registered (on a server ledger
it is the connected login), adjustments need a reason and a link, and an entry at or
above its threshold waits in the approvals queue instead of posting. The form only says
which happened, or shows the refusal; nothing typed here can raise into the notebook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import ipywidgets as widgets
from sqlalchemy.engine import Engine

from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import approvals, policy
from vosbench.ui.panel import markup
from vosbench.ui.panel.form import AccountDirectory

_WIDE = {"description_width": "initial"}
_log = logging.getLogger(__name__)


class RecordForm:
    """Record one payment; display ``.layout``. ``on_submitted`` runs after an entry posted or was queued."""

    def __init__(self, engine: Engine, directory: AccountDirectory, *,
                 settings: policy.ControlSettings | None = None, on_submitted: Callable[[], object] | None = None):
        self.engine = engine
        self.directory = directory
        self.settings = settings
        self.on_submitted = on_submitted
        self.kind = widgets.Dropdown(description="Kind", options=[kind.value for kind in Kind], value="deposit")
        self.account = widgets.Combobox(description="Account", options=directory.labels, ensure_option=False,
                                        placeholder="number or name", style=_WIDE,
                                        layout=widgets.Layout(width="420px"))
        self.amount = widgets.Text(description="Amount", placeholder="e.g. 250.00 (+ raises the balance)",
                                   style=_WIDE)
        self.method = widgets.Dropdown(description="Method", options=[method.value for method in Method],
                                       value="other")
        self.channel = widgets.Dropdown(description="Channel", options=[channel.value for channel in Channel],
                                        value="admin")
        self.reference = widgets.Text(description="Reference", placeholder="bank reference, ticket #…", style=_WIDE)
        self.memo = widgets.Text(description="Memo", style=_WIDE)
        self.reason = widgets.Text(description="Reason", placeholder="required for adjustments", style=_WIDE,
                                   layout=widgets.Layout(width="420px"))
        self.operator = widgets.Text(description="Operator", placeholder="your operator login", style=_WIDE)
        self.submit_button = widgets.Button(description="Record", icon="plus", button_style="primary",
                                            tooltip="post it, or queue it for approval above its threshold")
        self.status = widgets.HTML()
        self.submit_button.on_click(lambda _: self.submit())
        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        self.layout = widgets.VBox([
            widgets.HBox([self.kind, self.account, self.amount], layout=row),
            widgets.HBox([self.method, self.channel, self.reference, self.memo], layout=row),
            widgets.HBox([self.reason, self.operator, self.submit_button], layout=row),
            self.status])

    def submit(self) -> bool:
        """Send the entry through maker-checker; True when it posted or was queued."""
        try:
            accounts = self.directory.resolve(self.account.value)
            if len(accounts) != 1:
                raise approvals.ApprovalError("account: give exactly one account (pick it from the list)")
            done = approvals.submit(
                self.engine, self.settings or policy.load(), account=accounts[0], kind=self.kind.value,
                amount=self.amount.value.strip(), operator=self.operator.value, channel=self.channel.value,
                method=self.method.value, reference=self.reference.value, memo=self.memo.value,
                reason=self.reason.value)
        except ValueError as error:  # a refusal that says its fix (ApprovalError, IdentityError, MoneyError)
            self.status.value = markup.message("error", f"Not recorded: {error}")
            return False
        except Exception as error:  # the panel's boundary: a click never raises into the notebook
            self.status.value = markup.failure("Not recorded", error, _log)
            return False
        if done.status == "recorded":
            self.status.value = markup.message("info", f"Posted as payment {done.id}.")
        else:
            self.status.value = markup.message(
                "info", f"Waiting for approval: request {done.id} ({done.why}); a supervisor approves it in the queue "
                        "below.")
        self.amount.value = self.reference.value = self.memo.value = self.reason.value = ""
        if self.on_submitted is not None:
            self.on_submitted()
        return True
