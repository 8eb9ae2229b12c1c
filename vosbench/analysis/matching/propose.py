"""From "no payment record" to a record: the deposit to propose for money that arrived unrecorded.

For each incoming statement line that no payment record matched, the account is
suggested from what the line says, strongest first:

1. ``account``: the source names a ledger account (a gateway's customer column);
2. ``reference``: the reference, remittance text or name holds an account's code;
3. ``name``: the payer's name is an account's name;
4. ``history``: lines from this payer were matched to the same account before.

The amount and date are the line's. Nothing is written here: the proposal is the
``vosbench record`` command that posts it through the manual-entry rules and the
approval thresholds, with the line's reference, so that once posted the line matches.
A line with no suggestion is listed with an empty account, for an analyst to decide.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter, defaultdict
from datetime import date, datetime, time

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import money, periods
from vosbench.ledger import tables
from vosbench.sources.bankfiles.lines import CHANNEL_METHODS

COLUMNS = ["line_id", "posted_on", "amount", "currency", "counterparty", "reference", "account", "basis", "command"]
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{3,}")


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip()


def propose(engine: Engine, run) -> pd.DataFrame:
    """One proposal per incoming line of ``run`` (a :class:`~vosbench.analysis.matching.review.MatchRun`) left unrecorded."""
    with engine.connect() as connection:
        accounts = dict(connection.execute(sa.select(tables.current_accounts.c.account, tables.current_accounts.c.name)).all())
    by_code = {code.upper(): code for code in accounts}
    by_name = defaultdict(set)
    for code, name in accounts.items():
        if _normal(name or ""):
            by_name[_normal(name)].add(code)
    history: dict[str, Counter] = defaultdict(Counter)
    for group in run.groups:
        if group.status == "matched" and group.payments:
            for line in group.lines:
                if line.counterparty:
                    history[_normal(line.counterparty)].update(p.account for p in group.payments)
    zone = periods.zone(run.period.timezone)
    rows = []
    for group in run.groups:
        if group.status != "no_payment_record":
            continue
        for line in group.lines:
            if line.amount <= 0:
                continue
            account, basis = _suggest(line, by_code, by_name, history)
            rows.append(_row(line, account, basis, zone))
    return pd.DataFrame(rows, columns=COLUMNS)


def _suggest(line, by_code: dict, by_name: dict, history: dict) -> tuple[str, str]:
    if line.account_hint and line.account_hint.upper() in by_code:
        return by_code[line.account_hint.upper()], "account: the source names it"
    tokens = {token.upper() for text in (line.reference, line.description, line.counterparty)
              for token in _TOKEN.findall(text or "")}
    named = sorted(by_code[token] for token in tokens if token in by_code)
    if len(named) == 1:
        return named[0], "reference: the line quotes the account's code"
    same_name = sorted(by_name.get(_normal(line.counterparty or ""), ()))
    if len(same_name) == 1:
        return same_name[0], "name: the payer's name is the account's"
    seen = history.get(_normal(line.counterparty or ""))
    if seen:
        (account, count), *rest = seen.most_common()
        if not rest or rest[0][1] < count:
            return account, f"history: {count} earlier payment(s) from this payer went to this account"
    return "", "no suggestion: " + ("several accounts fit" if len(named) > 1 or len(same_name) > 1 else
                                    "nothing in the line names an account")


def _row(line, account: str, basis: str, zone) -> dict:
    posted = date.fromordinal(line.day)
    amount = money.to_decimal(line.amount)
    at = datetime.combine(posted, time(12), zone).isoformat()
    method = CHANNEL_METHODS[line.channel][0]
    command = ""
    if account:
        command = " ".join(["vosbench", "record", "--account", shlex.quote(account), "--kind", "deposit",
                            "--amount", str(amount), "--method", method, "--at", at, "--operator", "YOUR_LOGIN",
                            *(["--reference", shlex.quote(line.reference)] if line.reference else []),
                            "--memo", shlex.quote(f"proposed from statement line {line.id}")])
    return {"line_id": line.id, "posted_on": posted.isoformat(), "amount": line.amount, "currency": line.currency,
            "counterparty": line.counterparty, "reference": line.reference, "account": account, "basis": basis,
            "command": command}
