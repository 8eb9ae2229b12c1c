"""SWIFT MT940 statements and MT942 interim reports, read with the maintained ``mt-940`` parser.

A file may hold several messages (several accounts or days), its lines ending in CR LF, LF or,
as old Mac-style exports write them, CR alone; each message is read and parsed
on its own, as the lines are asked for, so each keeps its own account (:25:) and
currency and a year of daily statements is never held whole. A transaction (:61:) gives
the value date, the booking date (MMDD, its year taken from the value date across a
year end), the signed amount, the customer's and the bank's references; the text that
follows (:86:) is the description, and its SEPA subfields give the end-to-end
reference (``/EREF/``, ``EREF+``) and the other party's name (``/NAME/``, ``?32``, or the Dutch
banks' ``/CNTP/account/BIC/name/city/``).

MT940 has no transaction id, so lines are keyed by their content and occurrence
(:func:`vosbench.sources.bankfiles.lines.with_keys`): re-importing the file adds nothing.
A currency comes from the balances (:60F:, :62F:) or, in MT942, the floor limit
(:34F:); a message that gives none has its transactions rejected, never assumed.

What banks bend and can be read only one way is written back as SWIFT writes it before
parsing, with a warning: a decimal point before at most two digits (Rabobank's older
files), a :61: without a transaction type before ``//`` (Zenith Bank), a blank between a :61:
amount and its type (Commerzbank, Deutsche Bank), a statement number the parser refuses (kept
as written in the statement id), and an available balance (:64:, :65:) that is not one
(Oldenburgische Landesbank's ``:65F:Dnullnull7414,3``): it moves no line's money, so it is
left out. A value date of 30 February (German banks date interest by a 30-day month) is
read, as the parser reads it, as the month's last day, with a warning. A German bank's
structured :86: gives the payer's account in ``?31`` and the name in ``?32``/``?33``; the
name is read without the account. A :61: the parser passes over refuses the file, naming
that line. An MT940 message with statement lines but without the
closing balance SWIFT requires may have been cut short: it is read, with a warning.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from vosbench.core import money
from vosbench.ledger.write_door import Rejection
from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine, balance_gap

_END_TO_END = re.compile(r"(?:/EREF/|EREF\+)([^/?\r\n]+)")
_NAME = re.compile(r"(?:/NAME/([^/\r\n]+)|\?32([^?\r\n]+))")
_COUNTERPARTY = re.compile(r"/CNTP/[^/]*/[^/]*/([^/\r\n]+)")
"""The Dutch banks' structured :86: (Rabobank, ING, ABN AMRO): ``/CNTP/account/BIC/name/city/``."""
_CURRENCY = re.compile(r"(?m)^:(?:60[FM]|62[FM]|34F):[CD]?\d{0,6}([A-Z]{3})")
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}
_CLOSING_BALANCE = re.compile(r"(?m)^:62[FM]:")


def looks_like_mt940(head: bytes) -> bool:
    text = head[:4000]
    return (b":20:" in text and b":25:" in text) and (b":61:" in text or b":60F:" in text or b":34F:" in text)


def parse(path: Path, *, channel: str = "bank", name: str | None = None) -> ParsedStatement:
    """Read every MT940/MT942 message of a file into lines."""
    parsed, lines = stream(path, channel=channel, name=name)
    parsed.lines = list(lines)
    return parsed


def stream(path: Path, *, channel: str = "bank",
           name: str | None = None) -> tuple[ParsedStatement, Iterator[StatementLine]]:
    """The file's record and its lines, read a message at a time as they are asked for.

    A first pass over the bytes gives the digest, the encoding and whether the file is an
    MT942; the record's counts and rejections are complete once the lines have been taken,
    and a file without a message raises then.
    """
    file = name or path.name
    digest, encoding, interim = _survey(path)
    warnings = [] if encoding == "utf-8" else ["the file is not UTF-8 text; it was read as Latin-1"]
    kind = "mt942" if interim else "mt940"
    parsed = ParsedStatement(file, kind, channel, kind, [], [], digest, 0, warnings)
    return parsed, _lines(path, encoding, parsed)


def _survey(path: Path) -> tuple[str, str, bool]:
    """The file's sha256; utf-8, or latin-1 when it is not UTF-8 (SWIFT text is ASCII; a bank's extended names are
    usually Latin-1); and whether a line starts a :34F: floor limit (an MT942)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid, interim = True, False
    with path.open("rb") as source:
        for raw in source:  # lines end at b"\n" only, as the messages' fields do
            digest.update(raw)
            interim = interim or raw.startswith(b":34F:") or b"\r:34F:" in raw  # lines may end in CR alone
            if valid:
                try:
                    decoder.decode(raw)
                except UnicodeDecodeError:
                    valid = False
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return digest.hexdigest(), "utf-8" if valid else "latin-1", interim


def _messages(path: Path, encoding: str) -> Iterator[str]:
    """The text of each message, from its :20: line to the next one (what comes before the first is not a message)."""
    chunk: list[str] = []
    with path.open("rb") as source:
        for number, raw in enumerate(source):
            text = raw.decode(encoding).replace("\r\n", "\n")
            if number == 0:
                text = text.lstrip("\ufeff")
            for line in _lone_returns(text):
                if line.startswith(":20:"):
                    if chunk:
                        yield "".join(chunk)
                    chunk = [line]
                elif chunk:
                    chunk.append(line)
    if chunk:
        yield "".join(chunk)


def _lone_returns(text: str) -> list[str]:
    """``text`` (one line as read, up to a line feed) as its lines when they end in a carriage return alone, as old
    Mac-style exports write them: each then ends in a line feed, as SWIFT's fields are read."""
    if "\r" not in text:
        return [text]
    *lines, last = text.replace("\r", "\n").split("\n")
    return [line + "\n" for line in lines] + ([last] if last else [])


def _lines(path: Path, encoding: str, parsed: ParsedStatement) -> Iterator[StatementLine]:
    import mt940

    file, rejections = parsed.file, parsed.rejections
    number = messages = 0
    told = False  # whether any message tells money: a statement line, a balance or an MT942 floor limit
    logger = logging.getLogger("mt940")
    for chunk in _messages(path, encoding):
        chunk = re.sub(r"(?m)^-\}?\s*$", "", chunk)  # the end of a SWIFT block
        chunk, odd_number, bent = _as_swift_writes(chunk)
        parsed.warnings.extend(warning for warning in bent if warning not in parsed.warnings)
        messages += 1
        level, logger.level = logger.level, logging.CRITICAL + 1  # it logs every failed match as an error
        try:
            transactions, layout = _parsed(mt940, chunk)
        except Exception as error:  # the parser raises RuntimeError, ValueError, KeyError, decimal errors
            raise StatementFileError(f"{file}: message {messages} is not valid MT940/MT942: {_reason(error)}; "
                                     "export the statement again") from None
        finally:
            logger.level = level
        if layout and layout not in parsed.warnings:
            parsed.warnings.append(layout)
        account = str(transactions.data.get("account_identification") or "").strip()
        statement_id = "/".join(str(transactions.data.get(k) or "") for k in ("transaction_reference",
                                                                                "statement_number")).strip("/")
        if odd_number:
            statement_id = f"{statement_id}/{odd_number}"
        found_currency = _CURRENCY.search(chunk)
        currency = found_currency.group(1) if found_currency else ""
        heads = _STATEMENT_LINE.findall(chunk)
        told = told or bool(heads) or bool(_TELLS_MONEY.search(chunk))
        if heads and parsed.format == "mt940" and not _CLOSING_BALANCE.search(chunk):
            parsed.warnings.append(f"message {messages} has statement lines but no closing balance (:62F: or :62M:): "
                                   "it may be cut short; check its lines against the bank's own view")
        if len(heads) != len(transactions):
            unread = next((head for head in heads if not _HEAD.match(head)), None)
            if unread is not None:  # the line the parser passed over, and why, rather than a count
                raise StatementFileError(f"{file}: message {messages}: {_unreadable(unread)}; export the statement "
                                         "again")
            raise StatementFileError(f"{file}: message {messages} holds {len(heads)} :61: statement lines but the "
                                     f"parser read {len(transactions)}; export the statement again")
        moved, refused = 0, len(rejections)
        for transaction, head in zip(transactions, heads):
            number += 1
            try:
                if not account:
                    raise ValueError(":25: account identification is missing from the message")
                line = _line(transaction.data, account, statement_id, currency, number)
                line = replace(line, amount=_signed_amount(head, line.amount))
            except ValueError as error:
                rejections.append(Rejection(file, number, f"transaction {number} (message {messages}): {error}"))
                continue
            moved += line.amount
            yield line
        gap = None if len(rejections) > refused else _unexplained(transactions.data, moved)
        if gap:
            parsed.warnings.append(f"message {messages}: {gap}")
        # each transaction refers back to its message: a cycle, kept for good while an import pauses the collector
        transactions.transactions.clear()
    if not messages:
        raise StatementFileError(f"{file}: not an MT940/MT942 file (no :20: statement reference)")
    if not told:
        raise StatementFileError(f"{file}: no message holds a statement line (:61:), a balance (:60F:, :62F:) or a "
                                 "floor limit (:34F:): the file is cut short or not a statement; export it again")
    parsed.statements = messages


_TELLS_MONEY = re.compile(r"(?m)^:(?:6[02][FM]|34F):")
"""A balance (opening, closing, intermediate) or an MT942 floor limit: what even a day without lines tells."""
_DECIMAL_POINT = re.compile(r"(?m)^(:61:[0-9]{6}(?:[0-9]{4})?R?[CD][A-Z]?[0-9]{1,14}|:6[02][FM]:[CD][0-9]{6}[A-Z]{3}[0-9]{1,14}"
                            r"|:6[45]:[CD][0-9]{6}[A-Z]{3}[0-9]{1,14})\.([0-9]{0,2})(?=[A-Z]|[ \t]*$)")
"""An amount of a statement line or balance written with a decimal point (``C000000000300.00NMSC``, as Rabobank's
older MT940 did) where SWIFT writes a comma: a point followed by at most two digits and then the transaction type
(or the line's end) is no thousands separator. ``1.000`` stays unread, and is refused."""
DECIMAL_POINT_WARNING = ("amounts written with a decimal point (300.00) where SWIFT writes a comma were read as "
                         "decimals: check the file's totals against the bank's own view")
_UNTYPED = re.compile(r"(?m)^(:61:[0-9]{6}(?:[0-9]{4})?R?[CD][A-Z]?[0-9]{1,14},[0-9]{0,2})(?=//)")
"""A statement line whose amount is followed straight by ``//`` and the bank's reference, without the transaction
type SWIFT puts between them (as Zenith Bank writes it): the amount ends unambiguously at the ``//``."""
UNTYPED_WARNING = ("some :61: statement lines carry no transaction type before the bank's reference (//); they were "
                   "read as NMSC (miscellaneous), with the amount that ends at the //")
_SPACED = re.compile(r"(?m)^(:61:[0-9]{6}(?:[0-9]{4})?R?[CD][A-Z]?[0-9]{1,14},[0-9]{0,2}) (?=[NSF][A-Z0-9]{3})")
"""A statement line with a blank between its amount and its transaction type (``D12,35 NRTI``, as Commerzbank and
Deutsche Bank write it): the amount has ended at its last digit, so the blank is only taken out."""
SPACED_WARNING = ("some :61: statement lines have a blank between the amount and the transaction type (12,35 NTRF); "
                  "it was taken out, the amount ending at its last digit")
_BALANCE = re.compile(r"(?m)^:6[45]F?:(.*)\n?")
_READABLE_BALANCE = re.compile(r"[CD][0-9]{6}[A-Z]{3}[0-9]{1,14}(?:,[0-9]{0,2})?")
BALANCE_WARNING = ("an available balance (:64:/:65:) not written as SWIFT writes a balance was left out: it moves no "
                   "statement line's money")
_FEBRUARY = re.compile(r"(?m)^:61:([0-9]{2})02(29|3[01])")
"""A :61: value date past February's end (``260230``): German banks date interest by a 30-day month, and the
parser reads it as the month's last day."""
FEBRUARY_WARNING = ("some :61: value dates fall after the end of February (30 February, as banks dating interest by "
                    "a 30-day month write them); they were read as the month's last day")
_STATEMENT_NUMBER = re.compile(r"(?m)^:28C?:(.*)(?:\n|$)")
_READABLE_NUMBER = re.compile(r"[0-9]{1,5}(?:/[0-9]{1,5})?")
STATEMENT_NUMBER_WARNING = ("a statement number (:28C:) not written as SWIFT's digits[/digits] was kept as written, "
                            "in the statement id")


def _as_swift_writes(chunk: str) -> tuple[str, str, list[str]]:
    """The message with what banks bend written back as SWIFT writes it, the :28C: text set aside, and warnings.

    Only what cannot be read two ways is bent back: a decimal point before at most two
    digits and the transaction type, a missing type before ``//``, a blank after the amount,
    and a statement number (not money, only part of the statement's id) the parser would
    refuse, kept as written; an unreadable available balance (no line's money) is left out.
    """
    warnings = []
    chunk, pointed = _DECIMAL_POINT.subn(r"\1,\2", chunk)
    if pointed:
        warnings.append(DECIMAL_POINT_WARNING)
    chunk, untyped = _UNTYPED.subn(r"\1NMSC", chunk)
    if untyped:
        warnings.append(UNTYPED_WARNING)
    if any(day > ("29" if calendar.isleap(2000 + int(year)) else "28") for year, day in _FEBRUARY.findall(chunk)):
        warnings.append(FEBRUARY_WARNING)
    chunk, spaced = _SPACED.subn(r"\1", chunk)
    if spaced:
        warnings.append(SPACED_WARNING)
    balanced = _BALANCE.sub(lambda balance: balance.group(0) if _READABLE_BALANCE.fullmatch(balance.group(1).strip())
                            else "", chunk)
    if balanced != chunk:
        chunk = balanced
        warnings.append(BALANCE_WARNING)
    odd_number = ""
    found = _STATEMENT_NUMBER.search(chunk)
    if found and not _READABLE_NUMBER.fullmatch(found.group(1).strip()):
        odd_number = found.group(1).strip()
        chunk = chunk[:found.start()] + chunk[found.end():]
        warnings.append(STATEMENT_NUMBER_WARNING)
    return chunk, odd_number, warnings


_BANK_LAYOUTS = ("StatementASNB", "StatementGLS")
"""The parser's opt-in :61: layouts for banks that write a customer reference longer than SWIFT's 16
characters (ASN Bank an IBAN, GLS and Atruvia banks a long end-to-end id): they read the same date,
mark and amount, and are tried, in this order, only when the standard layout cannot read a message."""


def _parsed(mt940, chunk: str):
    """The message ``chunk`` parsed, and the warning to give when a bank's own :61: layout read it ('' if none).

    Raises the standard layout's error when no layout reads it.
    """
    options = mt940.Options(applicant_iban=True)  # ?31 is the payer's account: not part of their name
    try:
        transactions = mt940.models.Transactions(options=options)
        transactions.parse(chunk)
        return transactions, ""
    except Exception as error:
        refused = error
    for name in _BANK_LAYOUTS:
        layout = getattr(mt940.tags, name, None)
        if layout is None:  # an older parser without it
            continue
        tag = layout()
        transactions = mt940.models.Transactions(tags={tag.id: tag}, options=options)
        try:
            transactions.parse(chunk)
        except Exception:
            continue
        return transactions, ("some :61: lines carry a customer reference longer than SWIFT's 16 characters (as "
                              "ASN Bank and GLS/Atruvia banks write them); they were read with the parser's layout "
                              "for such banks: the same date, mark and amount")
    raise refused


_STATEMENT_LINE = re.compile(r"(?m)^:61:(.{0,60}(?:\n(?!:).{0,40})?)")
_HEAD = re.compile(r"[0-9]{6}(?:[0-9]{4}| {4})?(RC|RD|C|D)[A-Z]?[\n ]?([0-9]{1,15}(?:,[0-9]*)?)[A-Z][A-Z0-9 ]{3}")
"""A :61: statement line's start: value date, entry date (optional; Citibank and ASN Bank write four blanks
where they leave it out), mark (C, D, RC, RD), funds code, the amount
(digits and SWIFT's decimal comma, which some banks leave out of a whole amount: ``C500NTRF``) and the
transaction type (``NTRF``; banks also use their own: ``S   X``, ``MCI0``)."""


def _unexplained(data: dict, moved: int) -> str | None:
    """What a message's balances (:60F:/:60M: opening, :62F:/:62M: closing) say its lines do not
    (:func:`balance_gap`); None when they agree or a balance is absent."""
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    if opening is None or closing is None:
        return None
    try:
        start, end = (money.to_minor(str(balance.amount.amount), field="balance") for balance in (opening, closing))
    except money.MoneyError:  # a balance the ledger cannot hold (past its range, finer than 4 places) checks nothing
        return None
    return balance_gap(start, end, moved, "lines")


def _signed_amount(head: str, parsed: int) -> int:
    """The line's amount from its own text: digits with SWIFT's decimal comma, signed by its mark.

    The parser reads an amount and a mark it does not recognise loosely (a lower-case mark,
    ``RC`` — a reversed credit, money out — as money in, ``1.000,00`` as 1); the amount and
    sign kept are the ones the text says exactly, and must be the size the parser read.
    """
    found = _HEAD.match(head)
    if not found:
        raise ValueError(_unreadable(head))
    mark, text = found.groups()
    amount = money.to_minor(text.replace(",", "."), field=":61: amount")
    if amount != abs(parsed):
        raise ValueError(f":61: amount {text!r} was read as {money.to_decimal(abs(parsed))}; export the statement "
                         "again")
    return amount if mark in ("C", "RD") else -amount


def _unreadable(head: str) -> str:
    """Why the :61: statement line ``head`` cannot be read, quoting its first line."""
    return (f":61: {head.split(chr(10))[0][:40]!r} does not start with a value date, a mark (C, D, RC or RD) and an "
            "amount in digits with a decimal comma (e.g. 1500,00) before the transaction type")


def _reason(error: Exception) -> str:
    """The parser's complaint as a user can read it: the field and the text it could not read."""
    if isinstance(error, InvalidOperation):  # Decimal's own words name neither the field nor the text
        return "an amount (:61:, or a balance :60F:/:62F:) is not a number in SWIFT's form: digits with one decimal comma"
    tag = error.args[1] if len(error.args) > 1 else None
    tag_id = getattr(tag, "id", None)
    if tag_id is not None:
        found = re.search(r"from '(.*)'", str(error.args[0]), re.DOTALL)
        text = found.group(1).split("\\n")[0].split("\n")[0][:60] if found else ""
        return f"field :{tag_id}: ({type(tag).__name__}) cannot be read from {text!r}"
    text = re.sub(r"<[^<>]* object at 0x[0-9a-f]+>", "a field", " ".join(str(error).split()))
    return f"{type(error).__name__}: {text[:160]}"


def _line(data: dict, account: str, statement_id: str, currency: str, number: int) -> StatementLine:
    amount = data.get("amount")
    value = getattr(amount, "amount", None)
    if not isinstance(value, Decimal):
        raise ValueError(":61: amount is missing or unreadable")
    currency = (getattr(amount, "currency", None) or data.get("currency") or currency or "").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError("currency is missing (no :60F:/:62F: balance or :34F: floor limit gives it)")
    posted = data.get("entry_date") and (data.get("guessed_entry_date") or data.get("entry_date")) or data.get("date")
    value_on = data.get("date")
    posted_on = _day(posted)
    if posted_on is None:
        raise ValueError(":61: value date is missing")
    # German banks' :86: (?00, ?20…, ?32) arrives split into fields by the parser; SWIFT's stays text
    details = str(data.get("transaction_details") or "").replace("\n", " ").strip() or " / ".join(
        str(data.get(k)).strip() for k in ("posting_text", "purpose", "additional_purpose") if data.get(k))
    found = _END_TO_END.search(details)
    end_to_end = str(data.get("end_to_end_reference") or "").strip() or (found.group(1).strip() if found else "")
    named = _NAME.search(details)
    party = _COUNTERPARTY.search(details)
    name = str(data.get("applicant_name") or "").strip() or (
        (named.group(1) or named.group(2)).strip() if named else "") or (party.group(1).strip() if party else "")
    customer = str(data.get("customer_reference") or "").strip()
    bank = str(data.get("bank_reference") or "").strip()
    reference = (end_to_end if end_to_end.upper() not in _NO_REFERENCE else "") or (
        customer if customer.upper() not in _NO_REFERENCE else "") or bank
    raw = {"status": data.get("status"), "amount": str(value), "currency": currency, "id": data.get("id"),
           "customer_reference": customer, "bank_reference": bank, "details": details,
           "extra_details": str(data.get("extra_details") or "")}
    return StatementLine(
        statement_account=account, statement_id=statement_id, posted_on=posted_on, value_on=_day(value_on),
        amount=money.to_minor(value, field=":61: amount"), currency=currency, reference=reference,
        counterparty=name, description=details, raw=raw,
        line=number)


def _day(value) -> date | None:
    """mt-940's own Date as a plain date."""
    return date(value.year, value.month, value.day) if value is not None else None
