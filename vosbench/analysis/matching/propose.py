"""From "no payment record" to a record: the deposit to propose for money that arrived unrecorded.

For each incoming statement line that no payment record matched, the account is
suggested from what the line says, strongest first:

1. ``account``: the source names a ledger account (a gateway's customer column);
2. ``reference``: the reference, remittance text or name holds an account's code;
3. ``name``: the payer's name is an account's name;
4. ``history``: lines from this payer were matched to the same account before.

The amount and date are the line's. Nothing is written here: the proposal is the
``vosbench record`` command that posts it through the manual-entry rules and the
approval thresholds, with the line's reference, so that once posted the line matches (a
reference holding a hidden character is quoted so that the pasted command passes on exactly
it, and shows it spelled out); :func:`entry` gives the same deposit as the arguments of
:func:`vosbench.ledger.approvals.submit`, for the workbench's button. A line with no
suggestion is listed with an empty account, for an analyst to decide.
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
from vosbench.core.hidden_text import HIDDEN
from vosbench.ledger import tables
from vosbench.sources.bankfiles.lines import CHANNEL_METHODS

COLUMNS = ["line_id", "posted_on", "amount", "currency", "counterparty", "reference", "account", "basis", "command"]
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{3,}")


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip()


def propose(engine: Engine, run) -> pd.DataFrame:
    """One proposal per incoming line of ``run`` (a :class:`~vosbench.analysis.matching.review.MatchRun`) left unrecorded."""
    suggest = _suggester(engine, run)
    zone = periods.zone(run.period.timezone)
    rows = []
    for line in unrecorded(run):
        account, basis = suggest(line)
        rows.append(_row(line, account, basis, zone))
    return pd.DataFrame(rows, columns=COLUMNS)


def unrecorded(run) -> list:
    """The incoming lines of ``run`` that no payment record matched: the money a deposit is proposed for."""
    return [line for group in run.groups if group.status == "no_payment_record" for line in group.lines
            if line.amount > 0]


def entry(run, line_id: int, account: str) -> dict:
    """The deposit proposed for statement line ``line_id`` on ``account``, as :func:`approvals.submit`'s arguments.

    The amount, date and reference are the line's, so the recorded deposit matches it.
    """
    line = next((line for line in unrecorded(run) if line.id == line_id), None)
    if line is None:
        raise ValueError(f"statement line {line_id} has no proposal: it is matched, outgoing money, or not in "
                         f"{run.period.label}; run the match again to see the lines without a record")
    if not account.strip():
        raise ValueError(f"statement line {line_id}: give the account the deposit goes to")
    return _deposit(line, account.strip(), periods.zone(run.period.timezone))


def _deposit(line, account: str, zone) -> dict:
    """The deposit for ``line``: its amount, its day at noon where the ledger keeps time, its reference."""
    return dict(account=account, kind="deposit", amount=money.to_decimal(line.amount),
                occurred_at=datetime.combine(date.fromordinal(line.day), time(12), zone),
                method=CHANNEL_METHODS[line.channel][0], reference=line.reference,
                memo=f"proposed from statement line {line.id}")


def suggestions(engine: Engine, run) -> dict[int, tuple[str, str]]:
    """(account, basis) per unrecorded incoming line id of ``run``."""
    suggest = _suggester(engine, run)
    return {line.id: suggest(line) for line in unrecorded(run)}


def _suggester(engine: Engine, run):
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
    return lambda line: _suggest(line, by_code, by_name, history)


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


_SPELLED = {"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
"""Characters a ``$'…'`` word writes as an escape of their own; hidden ones are written as their bytes."""


def _shell_word(value: str) -> str | None:
    r"""``value`` as one shell word that pastes as exactly ``value`` and shows every character; None if none can.

    Plain text is quoted as usual. A hidden character (a control or bidirectional one) would
    be escaped by the table showing the command (``\u202e``, :mod:`vosbench.outputs.visible`),
    and the pasted command would then record those six characters instead: such a value, and
    one holding a line break, is written in ``$'…'`` quoting (bash, zsh, ksh), each hidden
    character as its UTF-8 bytes (``\xe2\x80\xae``: unlike ``\u202e``, the same in every locale),
    which the shell turns back into the character. A NUL cannot be in any command's argument.
    """
    if "\x00" in value:
        return None
    if not HIDDEN.search(value) and not any(character in value for character in "\t\n\r"):
        return shlex.quote(value)
    return "$'" + "".join(map(_spelled, value)) + "'"


def _spelled(character: str) -> str:
    """One character inside a ``$'…'`` word: an escape of its own, its UTF-8 bytes if hidden, else itself."""
    if character in _SPELLED:
        return _SPELLED[character]
    if HIDDEN.match(character):
        return "".join(f"\\x{byte:02x}" for byte in character.encode("utf-8"))
    return character


def _command(line, account: str, deposit: dict) -> tuple[str, str]:
    """The ``vosbench record`` command posting ``deposit``, and why there is none when a value cannot be pasted.

    ``--name=value``: a value starting with '-' (a reference such as -REF9) stays a value.
    """
    options = [("--account", account), ("--reference", line.reference), ("--memo", deposit["memo"])]
    words = {name: _shell_word(value) for name, value in options if value}
    refused = [name for name, word in words.items() if word is None]
    if refused:
        return "", f"no command: the {refused[0][2:]} holds a NUL character, which no shell command can pass on"
    return " ".join(["vosbench", "record", f"--account={words['--account']}", "--kind", "deposit",
                     "--amount", str(deposit["amount"]), "--method", deposit["method"],
                     "--at", deposit["occurred_at"].isoformat(), "--operator", "YOUR_LOGIN",
                     *([f"--reference={words['--reference']}"] if "--reference" in words else []),
                     f"--memo={words['--memo']}"]), ""


def _row(line, account: str, basis: str, zone) -> dict:
    deposit = _deposit(line, account, zone)
    command = ""
    if account:
        command, unpastable = _command(line, account, deposit)
        basis = f"{basis}; {unpastable}" if unpastable else basis
    return {"line_id": line.id, "posted_on": date.fromordinal(line.day).isoformat(), "amount": line.amount,
            "currency": line.currency, "counterparty": line.counterparty, "reference": line.reference,
            "account": account, "basis": basis, "command": command}
