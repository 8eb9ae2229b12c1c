"""From "no payment record" to a record: the deposit to propose for money that arrived unrecorded.

For each incoming statement line that no payment record matched, the account is
suggested from what the line says, strongest first:

1. ``account``: the source names a ledger account (a gateway's customer column);
2. ``reference``: the reference, remittance text or name holds an account's code;
3. ``name``: the payer's name is an account's name;
4. ``history``: lines from this payer were matched to the same account before.

A suggestion is ready (a command is offered, the panel fills in the account) only when
nothing speaks against it. It is held, with the basis saying why and what to do, when the
line is in another currency than the account (a deposit would post the line's figure in the
account's currency and never match; an account of the line's currency with the same name is
named when there is one), when the payer's name is another account's than the code the
line quotes (the planted wrong-account pattern), or when an undecided approval request already
holds the deposit (following the command again would post it twice once both are approved).

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
from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from vosbench.core import money, periods
from vosbench.core.hidden_text import HIDDEN
from vosbench.ledger import tables
from vosbench.sources.bankfiles.lines import CHANNEL_METHODS

COLUMNS = ["line_id", "posted_on", "amount", "currency", "counterparty", "reference", "account", "basis", "command"]
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{3,}")


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip()


@dataclass(frozen=True)
class Suggestion:
    """The account proposed for a line, why, and whether the deposit can be recorded as proposed."""

    account: str
    basis: str
    ready: bool = True


@dataclass(frozen=True)
class _Book:
    """What suggestions are drawn from: the accounts, earlier matches and the undecided deposit requests."""

    accounts: dict[str, tuple[str, str]]  # code → (name, currency)
    by_code: dict[str, str]  # upper-case code → code
    by_name: dict[str, set[str]]  # normalised name → codes
    history: dict[str, Counter]  # normalised payer name → accounts matched before
    pending: dict[tuple, Row]  # undecided deposit requests by memo and by (reference, amount, currency)


def propose(engine: Engine, run) -> pd.DataFrame:
    """One proposal per incoming line of ``run`` (a :class:`~vosbench.analysis.matching.review.MatchRun`) left unrecorded."""
    suggest = _suggester(engine, run)
    zone = periods.zone(run.period.timezone)
    rows = [_row(line, suggest(line), zone) for line in unrecorded(run)]
    return pd.DataFrame(rows, columns=COLUMNS)


def unrecorded(run) -> list:
    """The incoming lines of ``run`` that no payment record matched: the money a deposit is proposed for."""
    return [line for group in run.groups if group.status == "no_payment_record" for line in group.lines
            if line.amount > 0]


def entry(engine: Engine, run, line_id: int, account: str) -> dict:
    """The deposit proposed for statement line ``line_id`` on ``account``, as :func:`approvals.submit`'s arguments.

    The amount, date and reference are the line's, so the recorded deposit matches it; an
    account in another currency than the line's is refused (the deposit would never match),
    and so is a line whose deposit an undecided request already holds, on whatever account.
    """
    line = next((line for line in unrecorded(run) if line.id == line_id), None)
    if line is None:
        raise ValueError(f"statement line {line_id} has no proposal: it is matched, outgoing money, or not in "
                         f"{run.period.label}; run the match again to see the lines without a record")
    if not account.strip():
        raise ValueError(f"statement line {line_id}: give the account the deposit goes to")
    with engine.connect() as connection:
        currency = connection.scalar(sa.select(tables.current_accounts.c.currency)
                                     .where(tables.current_accounts.c.account == account.strip()))
        request = _covering(_pending(connection), line)
    if currency is not None and currency != line.currency:
        raise ValueError(f"statement line {line_id}: {_other_currency(line, account.strip(), currency)}")
    if request is not None:
        raise ValueError(f"statement line {line_id}: {_waiting(request)}")
    return _deposit(line, account.strip(), periods.zone(run.period.timezone))


def _deposit(line, account: str, zone) -> dict:
    """The deposit for ``line``: its amount, its day at noon where the ledger keeps time, its reference."""
    return dict(account=account, kind="deposit", amount=money.to_decimal(line.amount),
                occurred_at=datetime.combine(date.fromordinal(line.day), time(12), zone),
                method=CHANNEL_METHODS[line.channel][0], reference=line.reference,
                memo=_memo(line))


def _memo(line) -> str:
    return f"proposed from statement line {line.id}"


def suggestions(engine: Engine, run) -> dict[int, Suggestion]:
    """The suggestion per unrecorded incoming line id of ``run``."""
    suggest = _suggester(engine, run)
    return {line.id: suggest(line) for line in unrecorded(run)}


def _suggester(engine: Engine, run):
    a = tables.current_accounts
    with engine.connect() as connection:
        accounts = {row.account: (row.name or "", row.currency)
                    for row in connection.execute(sa.select(a.c.account, a.c.name, a.c.currency))}
        pending = _pending(connection)
    by_name = defaultdict(set)
    for code, (name, _currency) in accounts.items():
        if _normal(name):
            by_name[_normal(name)].add(code)
    history: dict[str, Counter] = defaultdict(Counter)
    for group in run.groups:
        if group.status == "matched" and group.payments:
            for line in group.lines:
                if line.counterparty:
                    history[_normal(line.counterparty)].update(p.account for p in group.payments)
    book = _Book(accounts, {code.upper(): code for code in accounts}, by_name, history, pending)
    return lambda line: _suggest(line, book)


def _suggest(line, book: _Book) -> Suggestion:
    """The suggestion for ``line``: the strongest evidence, then whatever holds it back."""
    request = _covering(book.pending, line)
    if request is not None:
        return Suggestion(request.account, f"pending: {_waiting(request)}", ready=False)
    account, basis = _evidence(line, book)
    if not account:
        return Suggestion("", basis, ready=False)
    currency = book.accounts[account][1]
    if currency != line.currency:
        sibling = _in_currency(book, account, line.currency)
        return Suggestion(account, f"{basis}; but {_other_currency(line, account, currency)}"
                                   + (f" ({sibling} is the {line.currency} account of the same name)" if sibling else ""),
                          ready=False)
    payer = sorted(book.by_name.get(_normal(line.counterparty or ""), ()))
    if payer and account not in payer:
        return Suggestion(account, f"{basis}; but the payer's name is {_owners(book, payer)}: check which account "
                                   "before recording", ready=False)
    return Suggestion(account, basis)


def _pending(connection: sa.Connection) -> dict[tuple, Row]:
    """The undecided deposit requests by their memo and by (reference, amount, currency), the oldest for each."""
    r, d = tables.approval_requests, tables.approval_decisions
    pending: dict[tuple, Row] = {}
    for request in connection.execute(
            sa.select(r.c.id, r.c.maker, r.c.account, r.c.amount, r.c.currency, r.c.reference, r.c.memo)
            .select_from(r.outerjoin(d, d.c.request_id == r.c.id))
            .where(d.c.id.is_(None), r.c.kind == "deposit", r.c.reverses_id.is_(None)).order_by(r.c.id)):
        pending.setdefault(("memo", request.memo), request)
        if request.reference:
            pending.setdefault((request.reference, request.amount, request.currency), request)
    return pending


def _covering(pending: dict[tuple, Row], line) -> Row | None:
    """The undecided request holding ``line``'s deposit: made from its proposal, or of its reference and amount."""
    return pending.get(("memo", _memo(line))) or (
        pending.get((line.reference, line.amount, line.currency)) if line.reference else None)


def _waiting(request: Row) -> str:
    return (f"request {request.id} (by {request.maker}) already holds this deposit to {request.account}; a supervisor "
            f"approves it (`vosbench approvals approve {request.id} --operator NAME`) or rejects it, and the line then "
            "matches; do not record it again")


def _evidence(line, book: _Book) -> tuple[str, str]:
    """(account, basis) from what the line says, strongest first; among several, the one in the line's currency."""
    if line.account_hint and line.account_hint.upper() in book.by_code:
        return book.by_code[line.account_hint.upper()], "account: the source names it"
    tokens = {token.upper() for text in (line.reference, line.description, line.counterparty)
              for token in _TOKEN.findall(text or "")}
    named = _prefer(book, sorted(book.by_code[token] for token in tokens if token in book.by_code), line.currency)
    if len(named) == 1:
        return named[0], "reference: the line quotes the account's code"
    same_name = _prefer(book, sorted(book.by_name.get(_normal(line.counterparty or ""), ())), line.currency)
    if len(same_name) == 1:
        return same_name[0], "name: the payer's name is the account's"
    seen = book.history.get(_normal(line.counterparty or ""))
    if seen:
        (account, count), *rest = seen.most_common()
        if not rest or rest[0][1] < count:
            return account, f"history: {count} earlier payment(s) from this payer went to this account"
    return "", "no suggestion: " + ("several accounts fit" if len(named) > 1 or len(same_name) > 1 else
                                    "nothing in the line names an account")


def _prefer(book: _Book, codes: list[str], currency: str) -> list[str]:
    """Of several accounts the evidence names, the one in ``currency`` when it is the only one; else all."""
    fitting = [code for code in codes if book.accounts[code][1] == currency]
    return fitting if len(codes) > 1 and len(fitting) == 1 else codes


def _in_currency(book: _Book, account: str, currency: str) -> str:
    """The one account of ``account``'s name held in ``currency``, if exactly one is."""
    name = _normal(book.accounts[account][0])
    fitting = [code for code in sorted(book.by_name.get(name, ())) if book.accounts[code][1] == currency] if name else []
    return fitting[0] if len(fitting) == 1 else ""


def _owners(book: _Book, codes: list[str]) -> str:
    return " or ".join(f"{code}'s ({book.accounts[code][0]})" for code in codes)


def _other_currency(line, account: str, currency: str) -> str:
    """Why a deposit of ``line`` to ``account`` (held in ``currency``) is not proposed, and what to do instead."""
    return (f"the line is in {line.currency} and {account} holds {currency}: a deposit would post "
            f"{money.format_money(line.amount)} {currency} and the line would never match; record it on the payer's "
            f"{line.currency} account, or enter its {currency} value by hand with the rate in the memo")


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


def _row(line, suggestion: Suggestion, zone) -> dict:
    basis, command = suggestion.basis, ""
    if suggestion.ready:
        command, unpastable = _command(line, suggestion.account, _deposit(line, suggestion.account, zone))
        basis = f"{basis}; {unpastable}" if unpastable else basis
    return {"line_id": line.id, "posted_on": date.fromordinal(line.day).isoformat(), "amount": line.amount,
            "currency": line.currency, "counterparty": line.counterparty, "reference": line.reference,
            "account": suggestion.account, "basis": basis, "command": command}
