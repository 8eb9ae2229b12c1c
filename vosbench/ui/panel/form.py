"""The explorer's filter form: widgets in, a :class:`~vosbench.analysis.filters.PaymentFilter` out.

The form only gathers what the analyst typed; every rule lives in
:meth:`PaymentFilter.from_parameters` (days, kinds, money as exact decimal text) and
:meth:`PaymentFilter.check` (accounts and operators the ledger knows), so the panel,
the CLI and papermill accept and refuse the same input with the same words.

The account box completes over labels such as ``"C00012 — Acme Trading (customer)"``:
the account number comes first because names are not unique. Typed text is taken as a
label, an account number (any case) or a name carried by exactly one account; a name
that several accounts share is left as typed, and the check names every account
number it could mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets

from vosbench.analysis.filters import PaymentFilter
from vosbench.core import money
from vosbench.core.model import Channel, Kind, Method

FIELDS = ("start", "end", "account", "include_sub_accounts", "kinds", "channels", "methods", "operator",
          "currencies", "min_amount", "max_amount", "text", "query_button", "reset_button")
"""The form's widgets, also attributes of the explorer (tests and notebooks drive them by these names)."""

_WIDE = {"description_width": "initial"}


def _choices(vocabulary) -> list[tuple[str, str]]:
    return [(member.value.replace("_", " "), member.value) for member in vocabulary]


def _amount_text(minor: int | None) -> str:
    """Minor units as the text a person would type: two places unless more are needed."""
    if minor is None:
        return ""
    text = money.format_money(minor, 4, grouping=False)
    return text[:-2] if text.endswith("00") else text


class AccountDirectory:
    """Every account's label and number, and the rules that turn typed text into numbers."""

    def __init__(self, choices: Sequence[tuple[str, str]]):
        self.labels = [label for label, _ in choices]
        self._by_label = dict(choices)
        self._label_of = {number: label for label, number in choices}
        self._by_number = {number.casefold(): number for _, number in choices}
        self._by_name: dict[str, list[str]] = {}
        for label, number in choices:
            name = label.removeprefix(f"{number} — ").rsplit(" (", 1)[0]  # filters.account_label's layout
            self._by_name.setdefault(name.casefold(), []).append(number)

    def resolve(self, text: str) -> tuple[str, ...]:
        """The account numbers ``text`` names: a label, or comma-separated numbers or unique names."""
        text = text.strip()
        if not text:
            return ()
        if text in self._by_label:
            return (self._by_label[text],)
        resolved = []
        for word in (part.strip() for part in text.split(",")):
            if not word:
                continue
            named = self._by_name.get(word.casefold(), [])
            number = self._by_label.get(word) or self._by_number.get(word.casefold())
            resolved.append(number or (named[0] if len(named) == 1 else word))
        return tuple(resolved)

    def text_for(self, accounts: Sequence[str]) -> str:
        """What the account box shows for ``accounts``: the label of one, the numbers of several."""
        if len(accounts) == 1:
            return self._label_of.get(accounts[0], accounts[0])
        return ", ".join(accounts)

    def label(self, account: str) -> str:
        return self._label_of.get(account, account)


class FilterForm:
    """The form's widgets (see :data:`FIELDS`), :meth:`read` and :meth:`show`; the currencies (those the
    ledger's accounts hold) are offered only when there are several."""

    def __init__(self, directory: AccountDirectory, operators: Sequence[str], currencies: Sequence[str] = ()):
        self.directory = directory
        self.timezone = ""  # not on the form: kept from the filter last shown ("" = the ledger's)
        self.start = widgets.DatePicker(description="From", style=_WIDE, layout=widgets.Layout(width="210px"))
        self.end = widgets.DatePicker(description="To", style=_WIDE, layout=widgets.Layout(width="190px"))
        self.account = widgets.Combobox(
            description="Account", options=directory.labels, ensure_option=False, style=_WIDE,
            placeholder="account number or name", layout=widgets.Layout(width="440px"))
        self.include_sub_accounts = widgets.Checkbox(description="include sub-accounts", indent=False,
                                                     layout=widgets.Layout(width="auto"))
        self.kinds = widgets.SelectMultiple(options=_choices(Kind), rows=6, description="Kinds", style=_WIDE)
        self.channels = widgets.SelectMultiple(options=_choices(Channel), rows=6, description="Channels",
                                               style=_WIDE)
        self.methods = widgets.SelectMultiple(options=_choices(Method), rows=6, description="Methods", style=_WIDE)
        self.operator = widgets.SelectMultiple(options=list(operators), rows=6, description="Operators",
                                               style=_WIDE)
        self.currencies = widgets.SelectMultiple(
            options=list(currencies), rows=min(max(len(currencies), 2), 6), description="Currencies", style=_WIDE,
            layout=widgets.Layout(display=None if len(currencies) > 1 else "none"))
        self.min_amount = widgets.Text(description="Amount from", placeholder="e.g. 100.00", style=_WIDE,
                                       layout=widgets.Layout(width="220px"))
        self.max_amount = widgets.Text(description="to", placeholder="e.g. 5000", style=_WIDE,
                                       layout=widgets.Layout(width="160px"))
        self.text = widgets.Text(description="Reference or memo contains", style=_WIDE,
                                 layout=widgets.Layout(width="420px"))
        self.query_button = widgets.Button(description="Query", button_style="primary", icon="search",
                                           tooltip="find the records this filter selects")
        self.reset_button = widgets.Button(description="Reset", icon="undo",
                                           tooltip="put the filter back as the panel opened, and query")
        self.layout = widgets.VBox([
            widgets.HBox([self.start, self.end, self.account, self.include_sub_accounts],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            widgets.HBox([self.kinds, self.channels, self.methods, self.operator, self.currencies],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.min_amount, self.max_amount, self.text],
                         layout=widgets.Layout(flex_flow="row wrap")),
        ])

    def parameters(self) -> dict[str, object]:
        """The form's values as filter parameters (amounts still the text typed; an empty box is no bound)."""
        return {
            "start": self.start.value, "end": self.end.value, "timezone": self.timezone,
            "accounts": self.directory.resolve(self.account.value),
            "include_sub_accounts": bool(self.include_sub_accounts.value),
            "kinds": list(self.kinds.value), "channels": list(self.channels.value),
            "methods": list(self.methods.value), "operators": list(self.operator.value),
            "currencies": list(self.currencies.value),
            "min_amount": self.min_amount.value.strip() or None, "max_amount": self.max_amount.value.strip() or None,
            "text": self.text.value,
        }

    def read(self) -> PaymentFilter:
        """The filter the form describes; :class:`~vosbench.analysis.filters.FilterError` lists every problem."""
        return PaymentFilter.from_parameters(self.parameters())

    def show(self, f: PaymentFilter) -> None:
        """Set every widget to ``f`` (an operator the list lacks is added, so the check can name it)."""
        self.timezone = f.timezone
        self.start.value, self.end.value = f.start, f.end
        self.account.value = self.directory.text_for(f.accounts)
        self.include_sub_accounts.value = f.include_sub_accounts
        self.kinds.value = tuple(kind.value for kind in f.kinds)
        self.channels.value = tuple(channel.value for channel in f.channels)
        self.methods.value = tuple(method.value for method in f.methods)
        missing = [name for name in f.operators if name not in self.operator.options]
        if missing:
            self.operator.options = sorted([*self.operator.options, *missing])
        self.operator.value = tuple(f.operators)
        unheld = [code for code in f.currencies if code not in self.currencies.options]
        if unheld:  # shown, so the check can name it
            self.currencies.options = sorted([*self.currencies.options, *unheld])
        self.currencies.value = tuple(f.currencies)
        self.min_amount.value, self.max_amount.value = _amount_text(f.min_amount), _amount_text(f.max_amount)
        self.text.value = f.text

    def set_busy(self, busy: bool) -> None:
        self.query_button.disabled = self.reset_button.disabled = busy
