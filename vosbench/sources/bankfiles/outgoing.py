"""Money out that is not a customer's: bank fees, supplier payments, own transfers, gateway payouts.

On a real bank account most debits are not refunds or withdrawals to customers, and
matching them against payment records only buries the real "money without a record"
cases. A line classified here is set aside by the matcher under the status
``outgoing`` with its class, unless a withdrawal record carries its reference and exact
amount (a customer's refund whose words a rule took for a fee). Two sources decide, and nothing else:

- the bank's own transaction code, when it says charges: OFX ``TRNTYPE`` FEE or SRVCHG,
  a CAMT sub-family code CHRG, FEES or COMM, an MT940 type NCHG, NCOM, FCHG or FCOM;
- the rules of the profile the file was imported with (``outgoing:`` in its YAML):
  a field of the line (a CSV column, or a raw field of OFX/CAMT/MT940) having one of
  a list of values, or a regular expression found in the counterparty, reference and
  description. Rules apply to money out only unless they say ``sign: any``.

The class is written into the line's raw record (``outgoing``, and ``outgoing_rule``
saying which rule), so it is kept with the line as imported. Lines imported before a
profile's rules were written, or without the profile, are classified when matching
(``vosbench match --outgoing PROFILE``, :func:`for_matching`): the stored line is never edited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

from vosbench.sources.bankfiles.lines import StatementLine

_BANK_FEE_CODES = {"trntype": {"FEE", "SRVCHG"}, "bank_subfamily": {"CHRG", "FEES", "COMM"},
                   "id": {"NCHG", "NCOM", "FCHG", "FCOM"}}
_KEYS = {"class", "field", "values", "text", "sign"}
LINE_FIELDS = ("counterparty", "reference", "description", "account_hint")
"""Rule fields that name a line's own field; any other is a raw field (a CSV column, a bank's field)."""


class Told(Protocol):
    """What a rule reads of a line: its signed amount and its texts (a statement line also has its raw fields)."""

    @property
    def amount(self) -> int: ...
    @property
    def counterparty(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def account_hint(self) -> str: ...


@dataclass(frozen=True)
class Rule:
    """One way to tell money out from customer money: ``field`` in ``values``, or ``text`` found."""

    name: str
    field: str = ""
    values: frozenset[str] = frozenset()
    text: re.Pattern | None = None
    sign: str = "out"

    def describe(self) -> str:
        if self.values:
            return f"{self.field} in {', '.join(sorted(self.values))}"
        return f"{self.field or 'text'} ~ {self.text.pattern if self.text else ''}"

    def applies(self, line: Told) -> bool:
        """Whether the rule calls ``line`` (a statement line, or a line as the matcher sees it) its class."""
        if self.sign == "out" and line.amount >= 0:
            return False
        if self.field:
            value = getattr(line, self.field) if self.field in LINE_FIELDS else getattr(line, "raw", {}).get(self.field)
            value = "" if value is None else str(value).strip()
            if self.values:
                return value.lower() in self.values
            return self.text is not None and bool(self.text.search(value))
        return self.text is not None and bool(self.text.search(" ".join((line.counterparty, line.reference,
                                                                          line.description))))


def rules_from(value, where: str) -> tuple[Rule, ...]:
    """The ``outgoing`` list of a profile as rules; a ValueError names the rule and the fix."""
    if value in (None, []):
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: outgoing is a list of rules such as {{class: fee, field: Type, values: [Fee]}}")
    rules = []
    for number, item in enumerate(value, start=1):
        at = f"{where}: outgoing rule {number}"
        if not isinstance(item, dict) or set(item) - _KEYS or "class" not in item:
            raise ValueError(f"{at}: takes class and either field with values, or text (and optionally field, "
                             f"sign); allowed keys: {', '.join(sorted(_KEYS))}")
        name, field = str(item["class"]).strip(), str(item.get("field") or "").strip()
        sign = str(item.get("sign", "out"))
        if not name or sign not in ("out", "any"):
            raise ValueError(f"{at}: class must be a name such as fee, supplier or transfer; sign is out or any")
        if "values" in item:
            values = item["values"]
            if not field or not isinstance(values, list) or not values or "text" in item:
                raise ValueError(f"{at}: values needs a field and a non-empty list, and no text")
            rules.append(Rule(name, field, frozenset(str(v).strip().lower() for v in values), sign=sign))
        elif "text" in item:
            try:
                pattern = re.compile(str(item["text"]), re.IGNORECASE)
            except re.error as error:
                raise ValueError(f"{at}: text {item['text']!r} is not a regular expression ({error})") from None
            rules.append(Rule(name, field, text=pattern, sign=sign))
        else:
            raise ValueError(f"{at}: give field with values, or text")
    return tuple(rules)


def for_matching(rules: tuple[Rule, ...], where: str) -> tuple[Rule, ...]:
    """``rules`` to apply when matching, to lines already imported: only rules on a line's own fields or text can,
    since a line keeps its source's raw fields only as text; a ValueError names a rule that reads another field."""
    for number, rule in enumerate(rules, start=1):
        if rule.field and rule.field not in LINE_FIELDS:
            raise ValueError(f"{where}: outgoing rule {number} ({rule.name}) reads the field {rule.field!r} of the "
                             f"source, which matching does not keep: apply it when importing (statements import "
                             f"--profile), or use {', '.join(LINE_FIELDS)} or text")
    return rules


def classify(lines: Iterable[StatementLine], rules: tuple[Rule, ...] = (), *,
             bank_codes: bool = True) -> Iterator[StatementLine]:
    """The lines, each money-out line that the bank's codes or ``rules`` call not a customer's marked so.

    ``bank_codes`` is for OFX, CAMT and MT940, whose raw fields are the bank's; a CSV's
    raw fields are its own columns, read through the profile's rules only.
    """
    if not rules and not bank_codes:
        yield from lines
        return
    for line in lines:
        found = _by_bank_code(line) if bank_codes and line.amount < 0 else None
        if found is None:
            rule = next((rule for rule in rules if rule.applies(line)), None)
            found = (rule.name, f"profile: {rule.describe()}") if rule else None
        if found is None:
            yield line
            continue
        yield replace(line, raw={**line.raw, "outgoing": found[0], "outgoing_rule": found[1]})


def _by_bank_code(line: StatementLine) -> tuple[str, str] | None:
    for field, codes in _BANK_FEE_CODES.items():
        value = str(line.raw.get(field) or "").upper()
        if value in codes:
            return "fee", f"bank code: {field} {value}"
    return None
