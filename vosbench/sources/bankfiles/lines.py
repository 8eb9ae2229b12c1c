"""What every statement format is read into: statement lines, and the errors of reading.

A statement line is one movement of money as the bank, gateway, IVR platform or
crypto wallet saw it: posted date, value date, exact amount (signed, + money in),
currency, reference, counterparty, description and the raw line as the source wrote
it. Its ``line_key`` makes imports idempotent: the source's own transaction id
(OFX FITID, CAMT AcctSvcrRef/NtryRef, a gateway charge id) when there is one, else a
hash of what the line says plus its occurrence number among identical lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from vosbench.core import currencies, money, periods
from vosbench.core.errors import VosbenchError
from vosbench.ledger.write_door import Rejection

CHANNELS = ("bank", "gateway", "ivr", "crypto")
"""Where statement lines come from; each is matched against the payment methods in :data:`CHANNEL_METHODS`."""

CHANNEL_METHODS = {
    "bank": ("bank_wire",),
    "gateway": ("gateway", "card"),
    "ivr": ("recharge_card",),
    "crypto": ("crypto",),
}


class StatementFileError(VosbenchError, ValueError):
    """A file cannot be read as the format claimed; nothing was imported from it."""


def check_channel(channel: str) -> str:
    """``channel`` if it is one of :data:`CHANNELS`, else a clear error."""
    text = (channel or "").strip().lower()
    if text not in CHANNELS:
        raise ValueError(f"channel: unknown value {channel!r}; use one of: {', '.join(CHANNELS)}")
    return text


@dataclass(frozen=True, slots=True)  # slots: a 100k-line file holds 100k of these
class StatementLine:
    """One line of a statement; ``amount`` in minor units, signed from our side (+ money in)."""

    statement_account: str
    statement_id: str
    posted_on: date
    amount: int
    currency: str
    value_on: date | None = None
    reference: str = ""
    counterparty: str = ""
    account_hint: str = ""
    description: str = ""
    raw: dict = field(default_factory=dict)
    line_key: str = ""  # the source's transaction id; empty: derived by :func:`with_keys`
    line: int = 0  # where in the file (row or entry number), for error messages

    def raw_text(self) -> str:
        return _raw_text(self.raw)


_RAW_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
# typeshed leaves out json.encoder's C accelerator, which CPython has (None elsewhere)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    # The C encoder built once with the encoder's settings (sorted keys, ", " and ": "):
    # JSONEncoder.encode builds it anew for every line, which costs more than the encoding.
    _c_encoder = _c_make_encoder(None, str, json.encoder.encode_basestring, None, ": ", ", ", True, False, True)

    def _raw_text(raw: dict, /) -> str:
        return "".join(_c_encoder(raw, 0))
else:
    _raw_text = _RAW_ENCODER.encode


@dataclass
class ParsedStatement:
    """A whole file read: its lines, the rows refused (with line and reason) and its identity."""

    file: str
    format: str
    channel: str
    profile: str
    lines: list[StatementLine]
    rejections: list[Rejection]
    sha256: str
    statements: int = 1
    warnings: list[str] = field(default_factory=list)  # what the reader bent the rules for, once each


_SIZES = {"statement_account": 128, "statement_id": 128, "reference": 255, "counterparty": 255,
          "account_hint": 64}
"""The stored column sizes: a longer text is cut to them (with a warning), never refused."""


def fitted(lines: Iterable[StatementLine], file: str, rejections: list[Rejection],
           warnings: list[str]) -> Iterator[StatementLine]:
    """The lines as the store can keep them: NULs taken out, over-long texts cut, over-long keys hashed, bad
    currencies and dates outside the years a month can be matched in refused.

    A statement account or a currency decides where money belongs, so one that cannot
    be stored as written is a rejected line; a name or a reference longer than its
    column is cut to it, and the file says so once (when the last line has been taken).
    A NUL character (0x00), which a damaged export can hold and PostgreSQL refuses in any
    text, is taken out of every text and key alike, on every database, and said once too.
    """
    cut: set[str] = set()
    nul: set[str] = set()
    unknown: set[str] = set()  # well-formed codes that are no ISO 4217 currency of money
    plain: dict[str, bool] = {}  # currency text → already a stored ISO code (a file repeats the same few)
    account_size, id_size, reference_size, party_size, hint_size = (_SIZES[name] for name in (
        "statement_account", "statement_id", "reference", "counterparty", "account_hint"))
    for line in lines:
        currency = line.currency
        fits = plain.get(currency)
        if fits is None:
            fits = plain[currency] = (len(currency) == 3 and currency.isascii() and currency.isalpha()
                                      and currency == currency.upper())
            code = currency.upper()
            if len(code) == 3 and code.isascii() and code.isalpha() and code not in currencies.DECIMALS:
                unknown.add(code)
        if fits and len(line.statement_account) <= account_size and len(line.statement_id) <= id_size and len(
                line.reference) <= reference_size and len(line.counterparty) <= party_size and len(
                line.account_hint) <= hint_size and len(line.line_key) <= 255 and (
                    periods.FIRST_DAY <= line.posted_on <= periods.LAST_DAY) and "\x00" not in "".join(
                    (line.statement_account, line.statement_id, line.line_key, line.reference, line.counterparty,
                     line.account_hint, line.description)):  # the usual line: nothing to change
            yield line
            continue
        if not (len(line.currency) == 3 and line.currency.isascii() and line.currency.isalpha()):
            rejections.append(Rejection(file, line.line, f"currency {line.currency[:20]!r} is not a three-letter "
                                                         "ISO 4217 code"))
            continue
        if not periods.FIRST_DAY <= line.posted_on <= periods.LAST_DAY:
            rejections.append(Rejection(file, line.line, f"posted date {line.posted_on.isoformat()} is outside "
                                                         f"{periods.FIRST_DAY.year}-{periods.LAST_DAY.year}, the "
                                                         "years a month can be matched in; check the export"))
            continue
        changes: dict[str, Any] = {name: getattr(line, name).replace("\x00", "") for name in _TEXTS
                                   if "\x00" in getattr(line, name)}
        nul.update(changes)
        texts = {name: changes.get(name, getattr(line, name)) for name in _TEXTS}
        if line.currency != line.currency.upper():
            changes["currency"] = line.currency.upper()
        if len(texts["statement_account"]) > _SIZES["statement_account"]:
            rejections.append(Rejection(file, line.line, f"account {texts['statement_account'][:40]!r}… is longer "
                                                         f"than {_SIZES['statement_account']} characters"))
            continue
        for name, size in _SIZES.items():
            if name != "statement_account" and len(texts[name]) > size:
                changes[name] = texts[name][:size]
                cut.add(name)
        if len(texts["line_key"]) > 255:
            changes["line_key"] = texts["line_key"].split(":", 1)[0] + "#" + hashlib.sha256(
                texts["line_key"].encode("utf-8")).hexdigest()
        yield replace(line, **changes) if changes else line
    if unknown:
        warnings.append(f"currency {', '.join(sorted(unknown))} is no ISO 4217 currency of money (a typo such as USS "
                        "for USD?): the lines are kept as the file says, and match no account's money; check the export")
    if nul:
        warnings.append(f"NUL characters (0x00) taken out of {', '.join(sorted(nul))}: no database keeps them in "
                        "text; the export is likely damaged")
    if cut:
        warnings.append(f"over-long {', '.join(sorted(cut))} cut to the stored size")


_TEXTS = ("statement_account", "statement_id", "line_key", "reference", "counterparty", "account_hint", "description")
"""A line's stored texts and key."""


def without_zero_lines(lines: Iterable[StatementLine], warnings: list[str]) -> Iterator[StatementLine]:
    """The lines that move money; those of amount zero are left out, and the file says how many, once.

    A bank writes a zero line for a fee waived, an information entry or a returned nil
    item: it carries no money, so there is nothing to match it with and nothing to refuse a
    real bank's file for. Every reader (OFX, CAMT, MT940, the CSV and XLSX profiles) keeps
    them out the same way, when the last line has been taken.
    """
    left_out = 0
    for line in lines:
        if line.amount:
            yield line
        else:
            left_out += 1
    if left_out:
        warnings.append(f"{left_out} line(s) of amount zero left out: they move no money (a fee waived, an "
                        "information entry), so there is nothing to match them with")


def content_key(line: StatementLine, occurrence: int) -> str:
    """The key of a line whose source gives no transaction id: what it says, and which identical one it is."""
    what = "|".join((line.statement_account, line.posted_on.isoformat(), str(line.amount), line.reference,
                     line.counterparty, line.description, str(occurrence)))
    return "h:" + hashlib.sha256(what.encode("utf-8")).hexdigest()[:40]


def with_keys(lines: Iterable[StatementLine]) -> Iterator[StatementLine]:
    """Give every line without a source id a content key; the n-th identical line gets occurrence n.

    Two genuinely identical payments on one day stay two lines, and importing the same
    file (or an overlapping one) again gives the same keys, so nothing is added twice.
    """
    seen: Counter = Counter()
    for line in lines:
        if line.line_key:
            yield line
            continue
        identity = (line.statement_account, line.posted_on, line.amount, line.reference, line.counterparty,
                    line.description)
        seen[identity] += 1
        yield replace(line, line_key=content_key(line, seen[identity]))


def sha256_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def balance_gap(opening: int, closing: int, moved: int, what: str) -> str | None:
    """What a statement's balances say its ``what`` (lines, entries) do not: opening + ``moved`` ≠ closing means
    some are missing or the statement was cut; None when they agree. Said as a warning: sample and test files
    disagree with themselves more often than banks do, and nothing here guesses the missing money."""
    if opening + moved == closing:
        return None
    return (f"its {what} move {money.format_money(moved)} but its balances move {money.format_money(closing - opening)} "
            f"(opening {money.format_money(opening)}, closing {money.format_money(closing)}): {what} may be missing or "
            "the statement cut short; check it against the bank's own view")
