"""OFX and QFX bank and credit-card statements (SGML v1 and XML v2), read by a tolerant tokenizer.

Banks bend the OFX specification every day: statements without LEDGERBAL, BANKIDs
longer than nine characters, card statements without a balance, a UTF-8 byte-order
mark before the header, lower-case tags, a missing ``</STMTTRN>``, decimal commas. A
validating parser refuses such files whole (and ofxtools needed 742 MiB and 14 s for
100,000 transactions), so the file is read here in one pass over its tags, keeping only
what a statement line needs. What the reader had to bend for is written down as a
warning of the file; an amount, a sign, a date or a currency that is missing or
unreadable is never guessed: that transaction is rejected, naming its field.

Aggregates are told from leaves by content: a tag followed by text is a leaf (SGML OFX
does not close leaves), a tag followed by another tag opens an aggregate, closed by its
end tag (which also closes any aggregate left open inside it). Entity references are
the five XML ones and numeric ones; a DOCTYPE or entity declaration is never expanded.

Dates: a transaction's posted and value dates are the dates the bank wrote (the first
eight digits of DTPOSTED and DTUSER), not the UTC day of that instant, which would move
a late-evening booking of a bank east of Greenwich to the day before. The instant in
UTC is kept in the raw line, as before.

FITIDs: some banks give two different transactions of one download the same FITID (Brazilian
banks write the day and a cheque number). Within a file those are two transactions, not one
edited: the second is keyed by the FITID and its occurrence (``fitid:X#2``), with a warning;
the same transaction written twice (overlapping statements) keeps one key, and is one line.

Investment statements (INVSTMTRS) hold trades, not money received; they are skipped
with a warning, and a file holding nothing else is refused.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from vosbench.core import money
from vosbench.ledger.write_door import Rejection
from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine

_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.:-]*)[^<>]*>([^<]*)")
_DATE = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})(?:T?(\d{2}):?(\d{2})(?::?(\d{2}))?(?:[.,]\d+)?)?"
                   r"\s*(?:\[\s*([+-]?\d{1,2}(?:\.\d+)?)(?::[^\]]*)?\])?")
_STATEMENTS = {"STMTRS": "bank", "CCSTMTRS": "card", "INVSTMTRS": "investment"}
_LEAVES = frozenset({"MEMO", "NAME", "CHECKNUM", "REFNUM", "SIC", "PAYEEID", "EXTDNAME", "DTUSER", "DTAVAIL",
                     "SRVRTID", "CORRECTFITID", "CORRECTACTION", "MKTGINFO", "BRANCHID", "ACCTKEY", "FITID",
                     "TRNAMT", "DTPOSTED", "TRNTYPE", "CURDEF", "BANKID", "ACCTID", "ACCTTYPE", "DTSTART",
                     "DTEND", "CURSYM", "CURRATE"})
_TRANSACTION_FIELDS = ("TRNTYPE", "DTPOSTED", "DTUSER", "TRNAMT", "FITID", "NAME", "MEMO", "REFNUM", "CHECKNUM")
_MAX_DEPTH = 64
_OUTGOING_TYPES = frozenset({"DEBIT", "FEE", "SRVCHG", "DIRECTDEBIT"})
"""TRNTYPEs that only ever name money going out (a card's PAYMENT or a POS refund may come in): a positive
TRNAMT on one is read as written, with a warning."""
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_PIECE = 1 << 20  # bytes read at a time


def looks_like_ofx(head: bytes) -> bool:
    text = _strip_bom(head).lstrip()[:400].upper()
    return text.startswith(b"OFXHEADER") or b"<OFX>" in text or (text.startswith(b"<?XML") and b"OFX" in text)


def parse(path: Path, *, channel: str = "bank", name: str | None = None) -> ParsedStatement:
    """Read every bank and card statement of an OFX/QFX file into lines; refuse a file that holds none."""
    parsed, lines = stream(path, channel=channel, name=name)
    parsed.lines = list(lines)
    return parsed


def stream(path: Path, *, channel: str = "bank",
           name: str | None = None) -> tuple[ParsedStatement, Iterator[StatementLine]]:
    """The file's statement record and its lines, read a piece of the file at a time as they are asked for.

    The record's statements, rejections and warnings are complete once the lines have all
    been taken; a file that holds no statement raises then. The file's text is never held
    whole: a 100,000-transaction file is read in pieces of a mebibyte.
    """
    file = name or path.name
    warnings: list[str] = []
    digest, encoding, skip = _survey(path, file, warnings)
    parsed = ParsedStatement(file, "ofx", channel, "ofx", [], [], digest, 0, warnings)
    return parsed, _lines(path, encoding, skip, parsed)


def _lines(path: Path, encoding: str, skip: int, parsed: ParsedStatement) -> Iterator[StatementLine]:
    pieces = _pieces(path, encoding, skip, parsed.file)
    first = next(pieces, "")
    start = _find_ofx(first)
    if start < 0:
        raise StatementFileError(f"{parsed.file}: not an OFX/QFX file (no <OFX> element); "
                                 "check the file, or give --profile for a CSV/XLSX export")
    reader = _Reader(parsed.file, parsed.warnings)
    reader.rejections = parsed.rejections
    reader.read(first, start)
    yield from reader.take()
    for piece in pieces:
        reader.read(piece, 0)
        yield from reader.take()
    reader.finish()
    yield from reader.take()
    parsed.statements = reader.statements
    if not reader.statements:
        if reader.investment:
            raise StatementFileError(f"{parsed.file}: holds only investment statements (INVSTMTRS); vosbench reads "
                                     "bank (STMTRS) and credit-card (CCSTMTRS) statements")
        if reader.error is not None:
            said = " ".join(f"{reader.error.get(key, '')}" for key in ("CODE", "MESSAGE")).strip()
            raise StatementFileError(f"{parsed.file}: the bank's server answered with an error instead of a statement "
                                     f"(STATUS {said[:160]!r}); download the statement again, or ask the bank")
        raise StatementFileError(f"{parsed.file}: the OFX file holds no bank or card statement (STMTRS or CCSTMTRS)")
    if reader.investment:
        parsed.warnings.append(f"{reader.investment} investment statement(s) (INVSTMTRS) skipped: only bank and "
                               "card statements are read")


def _strip_bom(raw: bytes) -> bytes:
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _survey(path: Path, file: str, warnings: list[str]) -> tuple[str, str, int]:
    """One pass over the bytes: the file's sha256, the encoding its text is read in and the bytes to skip.

    UTF-16 (by its byte-order mark) or UTF-8; a file that is not valid UTF-8 is read as
    Windows-1252, the charset of most SGML OFX (said by a warning unless its header says so).
    """
    digest = hashlib.sha256()
    with path.open("rb") as source:
        head = source.read(_PIECE)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding, skip = "utf-16", 0
        elif head.startswith(b"\xef\xbb\xbf"):
            warnings.append("a UTF-8 byte-order mark before the header was ignored")
            encoding, skip = "utf-8", 3
        else:
            encoding, skip = "utf-8", 0
        decoder = codecs.getincrementaldecoder(encoding)()
        valid, chunk = True, head[skip:]
        digest.update(head[:skip])
        while chunk:
            digest.update(chunk)
            if valid:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
            chunk = source.read(_PIECE)
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    if valid:
        return digest.hexdigest(), encoding, skip
    if encoding == "utf-16":
        raise StatementFileError(f"{file}: starts with a UTF-16 byte-order mark but is not UTF-16 text; "
                                 "export the statement again")
    declared = head[skip:skip + 600].upper()
    if not (b"CHARSET:1252" in declared or b"8859" in declared or b"WINDOWS-1252" in declared):
        warnings.append("the file is not UTF-8 text; it was read as Windows-1252")
    return digest.hexdigest(), "cp1252", skip


def _pieces(path: Path, encoding: str, skip: int, file: str) -> Iterator[str]:
    """The file's text a mebibyte at a time, each piece cut before its last ``<``: no tag or text is split.

    Comments (``<!-- … -->``, in SGML and XML OFX alike) are left out: a tag commented out
    by the bank or by hand is not part of the statement, so its account, currency or
    amount is never read. A comment still open at a piece's end is passed over in the
    next ones; one never closed means a damaged file, refused. CDATA sections become the
    escaped text they hold (:func:`_cdata_as_text`), kept whole within one piece.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carried, in_comment = "", False
    with path.open("rb") as source:
        source.seek(skip)
        while chunk := source.read(_PIECE):
            text = carried + decoder.decode(chunk)
            if in_comment:
                end = text.find("-->")
                if end < 0:
                    carried = text[-2:]  # the start of a "-->" cut by the piece's end
                    continue
                text, in_comment = text[end + 3:], False
            if "<!--" in text:
                text = _COMMENT.sub("", text)
                opened = text.find("<!--")
                if opened >= 0:  # closed in a later piece: what comes before it is read now
                    text, carried, in_comment = text[:opened], text[opened + 4:][-2:], True
                    if text:
                        yield text
                    continue
            cut = text.rfind("<")
            if "<![CDATA[" in text:
                text, opened = _cdata_as_text(text)
                # a section closed in a later piece goes there whole, with the tag it is the value of
                cut = text.rfind("<", 0, opened) if opened >= 0 else text.rfind("<")
            if cut <= 0:
                carried = text
                continue
            carried = text[cut:]
            yield text[:cut]
    if in_comment:
        raise StatementFileError(f"{file}: a comment (<!--) is never closed (-->); the file is damaged or truncated: "
                                 "export the statement again")
    carried += decoder.decode(b"", final=True)
    if "<![CDATA[" in carried:
        carried, opened = _cdata_as_text(carried)
        if opened >= 0:
            raise StatementFileError(f"{file}: a CDATA section (<![CDATA[) is never closed (]]>); the file is damaged "
                                     "or truncated: export the statement again")
    if carried:
        yield carried


def _cdata_as_text(text: str) -> tuple[str, int]:
    """``text`` with each closed ``<![CDATA[…]]>`` section (OFX 2.x names and memos holding ``&`` or ``<``)
    written as escaped text, so it is read as the value of the tag before it; and where a section still open at
    the piece's end begins (-1 if none)."""
    parts, position = [], 0
    while (start := text.find("<![CDATA[", position)) >= 0:
        end = text.find("]]>", start + 9)
        if end < 0:
            parts.append(text[position:])
            return "".join(parts), len("".join(parts)) - (len(text) - start)
        parts.append(text[position:start])
        parts.append(html.escape(text[start + 9:end], quote=False))
        position = end + 3
    parts.append(text[position:])
    return "".join(parts), -1


def _find_ofx(text: str) -> int:
    found = re.search(r"<OFX\s*>", text[:100_000], re.IGNORECASE)
    return found.start() if found else -1


def _unescaped(text: str) -> str:
    """Entity references resolved; ``&amp;`` alone (a company's "A &amp; B", the usual one) without a regex."""
    if text.count("&") == text.count("&amp;"):
        return text.replace("&amp;", "&")
    return html.unescape(text)


class _Reader:
    """One pass over the tags: statements, their accounts and currencies, and their transactions."""

    def __init__(self, file: str, warnings: list[str]):
        self.file, self.warnings = file, warnings
        self.lines: list[StatementLine] = []
        self.rejections: list[Rejection] = []
        self.statements = 0
        self.investment = 0
        self.number = 0
        self.stack: list[str] = []
        self.statement: dict | None = None
        self.transaction: dict | None = None
        self._noted: set[str] = set()
        self.status: dict[str, str] = {}  # the STATUS aggregate being read (CODE comes first)
        self.error: dict[str, str] | None = None  # the first STATUS of SEVERITY ERROR
        self.fitids: dict[str, dict[str, int]] = {}  # account → key → its first transaction's day and amount, hashed
        self.reused: dict[tuple[str, str], list[int]] = {}  # (account, key) → every other day and amount under it

    def note(self, warning: str) -> None:
        if warning not in self._noted:
            self._noted.add(warning)
            self.warnings.append(warning)

    def read(self, text: str, start: int) -> None:
        """Read the tags of one piece of the file; the state carries over to the next piece."""
        stack = self.stack
        fields = self.transaction["fields"] if self.transaction is not None else None
        tokens = _TOKEN.findall(text, start)
        stray = text.count("<", start) - len(tokens) - text.count("<?", start) - text.count("<!", start)
        if stray > 0:  # a '<' inside a value (an SGML memo "price < 5") ends the value there: say so
            self.note("a value holding a bare '<' was cut at it (OFX text must write it as &lt;); "
                      "check the memos and names of this file against the bank's own view")
        for closing, tag, content in tokens:
            tag = tag.upper()
            if closing:
                if tag in stack:
                    while stack:
                        self._close(stack.pop())
                        if self._last_closed == tag:
                            break
                    fields = self.transaction["fields"] if self.transaction is not None else None
                continue
            value = content.strip()
            if value or tag in _LEAVES:
                if "&" in value:
                    value = _unescaped(value)
                if fields is not None and stack[-1] == "STMTTRN":  # most tags of a file: a transaction's field
                    if tag not in fields:
                        fields[tag] = value
                else:
                    self._leaf(tag, value)
                continue
            if tag == "STMTTRN" and "STMTTRN" in stack:  # the bank forgot </STMTTRN>
                self.note("a transaction (STMTTRN) was not closed; the next one closed it")
                while stack:
                    self._close(stack.pop())
                    if self._last_closed == "STMTTRN":
                        break
            if len(stack) >= _MAX_DEPTH:
                raise StatementFileError(f"{self.file}: aggregates nested more than {_MAX_DEPTH} deep at <{tag}>; "
                                         "not an OFX statement")
            stack.append(tag)
            self._open(tag)
            fields = self.transaction["fields"] if self.transaction is not None else None

    def take(self) -> list[StatementLine]:
        """The lines made since the last call (the reader keeps none)."""
        lines, self.lines = self.lines, []
        return lines

    def finish(self) -> None:
        """The end of the file: a statement or transaction still open means a truncated file."""
        stack = self.stack
        cut = [tag for tag in stack if tag in ("STMTTRN", "BANKTRANLIST", *_STATEMENTS)]
        if cut:
            where = f" (transaction {self.number})" if cut[-1] == "STMTTRN" else ""
            raise StatementFileError(f"{self.file}: not a valid OFX/QFX file: it ends inside <{cut[-1]}>{where} "
                                     "before its end tag; the file is truncated: export the statement again")
        if stack:
            self.note(f"the file ends without closing <{stack[-1]}>; every statement in it was complete")
        stack.clear()

    _last_closed = ""

    def _open(self, tag: str) -> None:
        if tag in _STATEMENTS:
            if _STATEMENTS[tag] == "investment":
                self.investment += 1
                self.statement = {"kind": "investment"}
            else:
                self.statement = {"kind": _STATEMENTS[tag], "fields": {}, "has_list": False, "has_balance": False,
                                  "lines": []}
        elif tag == "STMTTRN" and self.statement is not None and self.statement["kind"] != "investment":
            self.number += 1
            self.transaction = {"number": self.number, "fields": {}}
        elif tag == "BANKTRANLIST" and self.statement is not None and self.statement["kind"] != "investment":
            self.statement["has_list"] = True
        elif tag in ("LEDGERBAL", "AVAILBAL") and self.statement is not None and "has_balance" in self.statement:
            self.statement["has_balance"] = True

    def _close(self, tag: str) -> None:
        self._last_closed = tag
        if tag == "STMTTRN" and self.transaction is not None:
            transaction, self.transaction = self.transaction, None
            statement = self.statement
            if statement is None:
                return
            fields = statement["fields"]
            if fields.get("ACCTID") and (fields.get("CURDEF") or transaction["fields"].get("CURRENCY")):
                # the account and currency come before the list, as the specification orders them: the line
                # is made now, so a large file never holds every transaction twice
                self._build(transaction, fields["ACCTID"], _statement_id(fields), fields.get("CURDEF", "").upper())
            else:
                statement["lines"].append(transaction)
        elif tag in _STATEMENTS and self.statement is not None:
            statement, self.statement = self.statement, None
            if statement["kind"] != "investment":
                self._statement(statement)

    def _leaf(self, tag: str, value: str) -> None:
        parent = self.stack[-1] if self.stack else ""
        if self.transaction is not None:
            fields = self.transaction["fields"]
            if parent == "STMTTRN":
                fields.setdefault(tag, value)
            elif parent == "PAYEE" and tag == "NAME":
                fields.setdefault("PAYEE.NAME", value)
            elif parent == "CURRENCY" and tag == "CURSYM":
                fields.setdefault("CURRENCY", value)
            elif parent == "ORIGCURRENCY" and tag == "CURSYM":
                fields.setdefault("ORIGCURRENCY", value)
            return
        if parent == "STATUS":  # a server's answer: an error instead of a statement is said as the bank said it
            self.status[tag] = value
            if tag == "SEVERITY" and value.upper() == "ERROR" and self.error is None:
                self.error = self.status
            elif tag == "CODE":
                self.status = {"CODE": value}
            return
        if self.statement is None or self.statement["kind"] == "investment":
            return
        fields = self.statement["fields"]
        if parent in ("STMTRS", "CCSTMTRS") and tag == "CURDEF":
            fields["CURDEF"] = value
        elif parent in ("BANKACCTFROM", "CCACCTFROM") and tag in ("ACCTID", "BANKID"):
            fields[tag] = value
        elif parent == "BANKTRANLIST" and tag in ("DTSTART", "DTEND"):
            fields[tag] = value

    def _statement(self, statement: dict) -> None:
        self.statements += 1
        fields = statement["fields"]
        account = fields.get("ACCTID", "")
        what = f"{'card' if statement['kind'] == 'card' else 'bank'} statement of account {account or '?'}"
        if not account:
            first = statement["lines"][0]["number"] if statement["lines"] else self.number + 1
            self.rejections.append(Rejection(self.file, first, (
                f"statement {self.statements}: ACCTID is missing (BANKACCTFROM or CCACCTFROM); "
                "the lines cannot be told apart from another account's")))
            return
        if len(fields.get("BANKID", "")) > 9:
            self.note(f"{what}: BANKID {fields['BANKID']!r} is longer than the 9 characters OFX allows; read as is")
        if not statement["has_balance"]:
            self.note(f"{what}: no balance (LEDGERBAL); the transactions are read without it")
        if not statement["has_list"]:
            self.note(f"{what}: no transaction list (BANKTRANLIST); nothing to import from it")
            return
        for transaction in statement["lines"]:  # those that came before their statement's account or currency
            self._build(transaction, account, _statement_id(fields), fields.get("CURDEF", "").upper())

    def _build(self, transaction: dict, account: str, statement_id: str, currency: str) -> None:
        number = transaction["number"]
        try:
            self.lines.append(self._apart(self._line(transaction["fields"], account, statement_id, currency, number)))
        except ValueError as error:
            fitid = transaction["fields"].get("FITID")
            self.rejections.append(Rejection(self.file, number, (
                f"transaction {number}" + (f" (FITID {fitid})" if fitid else "") + f": {error}")))

    def _apart(self, line: StatementLine) -> StatementLine:
        """``line``, keyed by its FITID and occurrence when another transaction of the file under the same FITID
        has another day or amount; the same transaction written again keeps its key (and is then one line).

        Only the day and amount tell them apart: two that differ in a name alone keep one key, and the
        import refuses the second as the first edited, as it would without this.
        """
        if not line.line_key:
            return line
        says = hash((line.posted_on, line.amount))
        keys = self.fitids.get(line.statement_account)
        if keys is None:
            keys = self.fitids[line.statement_account] = {}
        if keys.setdefault(line.line_key, says) == says:
            return line
        others = self.reused.setdefault((line.statement_account, line.line_key), [])
        if says not in others:
            others.append(says)
        self.note("some transactions have the same FITID as another transaction of the file that says something "
                  "else; each was kept, keyed by the FITID and its occurrence (FITID#2)")
        return replace(line, line_key=f"{line.line_key}#{others.index(says) + 2}")

    def _line(self, fields: dict, account: str, statement_id: str, currency: str, number: int) -> StatementLine:
        amount = _amount(fields.get("TRNAMT"), self.note)
        if amount > 0 and fields.get("TRNTYPE", "").upper() in _OUTGOING_TYPES:
            self.note("some transactions of an outgoing type (DEBIT, FEE, SRVCHG, DIRECTDEBIT) carry a positive TRNAMT; "
                      "they were read as money in, as TRNAMT's sign says: check them against the bank's own view")
        posted, posted_at = _date(fields.get("DTPOSTED"), "DTPOSTED", required=True)
        assert posted is not None and posted_at is not None  # required: a missing date raised
        value_on, _ = _date(fields.get("DTUSER"), "DTUSER", required=False)
        currency = (fields.get("CURRENCY") or currency).upper()
        if not currency:
            raise ValueError("currency is missing (no CURDEF in the statement, no CURRENCY in the transaction)")
        fitid = fields.get("FITID", "")
        if not fitid:
            self.note("transactions without FITID were keyed by their content")
        name = fields.get("NAME") or fields.get("PAYEE.NAME") or ""
        memo = fields.get("MEMO", "")
        refnum = fields.get("REFNUM", "")
        reference = refnum or fields.get("CHECKNUM", "") or fitid
        raw = {"trntype": fields.get("TRNTYPE", ""), "dtposted": posted_at.isoformat(),
               "trnamt": fields.get("TRNAMT", "").strip(), "fitid": fitid}
        for key, value in (("name", name), ("memo", memo), ("refnum", refnum)):
            if value:  # kept only when written: a 100k-transaction file stays small in memory
                raw[key] = value
        if fields.get("ORIGCURRENCY"):
            raw["origcurrency"] = fields["ORIGCURRENCY"]
        return StatementLine(
            statement_account=account, statement_id=statement_id, posted_on=posted, value_on=value_on,
            amount=amount, currency=currency, reference=reference, counterparty=name, description=memo,
            raw=raw, line_key=f"fitid:{fitid}" if fitid else "", line=number)


_LONGEST_AMOUNT = 40  # characters: more digits than any amount a bank holds
_PLAIN_AMOUNT = re.compile(r"([+-]?)([0-9]{1,14})(?:\.([0-9]{1,4}))?")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,(?:[0-9]{1,2}|[0-9]{4})")
"""An amount written with OFX's other decimal separator: one comma, then places a thousands comma never has
(``200,00``); ``1,000`` could be a thousand or one, and is refused."""
DECIMAL_COMMA_WARNING = "amounts written with a decimal comma (200,00) were read as decimals"


def _amount(text: str | None, note: Callable[[str], None]) -> int:
    """TRNAMT as minor units, from ASCII digits; a decimal comma (OFX allows it) is said through ``note``."""
    if text is None or not text.strip():
        raise ValueError("TRNAMT is missing; a transaction without an amount cannot be read")
    plain = _PLAIN_AMOUNT.fullmatch(text)
    if plain:  # the common case, in integers: whole units and up to four decimals, exactly
        sign, whole, fraction = plain.groups()
        minor = int(whole) * money.UNIT + int((fraction or "").ljust(money.SCALE, "0"))
        return -minor if sign == "-" else minor
    cleaned = text.strip().replace(" ", "")
    if len(cleaned) > _LONGEST_AMOUNT:
        raise ValueError(f"TRNAMT {cleaned[:20]!r}… ({len(cleaned)} characters) is not an amount")
    if "," in cleaned:
        if not _DECIMAL_COMMA.fullmatch(cleaned):
            raise ValueError(f"TRNAMT {text.strip()[:40]!r}: a comma is read only as a decimal comma with one, two or "
                             "four places (200,00); a thousands separator is not an amount: export the statement "
                             "again")
        cleaned = cleaned.replace(",", ".")
        note(DECIMAL_COMMA_WARNING)
    return money.to_minor(cleaned, field="TRNAMT")  # decimal text only: "1e3" (a typo for 1.3?) is no thousand


def _date(text: str | None, field: str, *, required: bool) -> tuple[date | None, datetime | None]:
    """The date as written (YYYYMMDD…) and the instant in UTC (the zone in brackets, else UTC)."""
    if text is None or not text.strip():
        if required:
            raise ValueError(f"{field} is missing; a transaction needs the date it was posted")
        return None, None
    return _parsed_date(text, field)


@functools.lru_cache(maxsize=8192)  # a statement repeats the same few hundred date texts
def _parsed_date(text: str, field: str) -> tuple[date, datetime]:
    found = _DATE.match(text)
    try:
        if not found:
            raise ValueError
        year, month, day, hour, minute, second, offset = found.groups()
        written = date(int(year), int(month), int(day))
        local = datetime(written.year, written.month, written.day, int(hour or 0), int(minute or 0),
                         int(second or 0))
        hours = Decimal(offset) if offset else Decimal(0)
        if abs(hours) > 14:
            raise ValueError
        instant = (local - timedelta(minutes=int(hours * 60))).replace(tzinfo=UTC)
    except (ValueError, OverflowError, InvalidOperation):
        raise ValueError(f"{field} {text.strip()[:40]!r} is not a date in the form YYYYMMDD[HHMMSS][[offset]]") \
            from None
    return written, instant


def _statement_id(fields: dict) -> str:
    return _statement_key(fields.get("ACCTID", ""), fields.get("DTSTART"), fields.get("DTEND"))


@functools.lru_cache(maxsize=64)  # asked once per transaction, the same for every one of a statement
def _statement_key(account: str, start: str | None, end: str | None) -> str:
    return f"{account}:{_utc_day(start)}..{_utc_day(end)}"


def _utc_day(text: str | None) -> str:
    if not text:
        return ""
    try:
        _, instant = _date(text, "date", required=False)
    except ValueError:
        return ""
    return f"{instant:%Y-%m-%d}" if instant else ""
