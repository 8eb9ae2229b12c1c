"""OFX and QFX bank statements (SGML v1 and XML v2), read with ofxtools.

ofxtools validates the document against the OFX specification and gives amounts as
``Decimal``, which :func:`vosbench.core.money.to_minor` takes exactly. A file may hold several
statements (several accounts, or bank and credit-card statements); each transaction's
FITID is its key, as the specification makes it unique per account.

Dates: a transaction's posted and value dates are the dates the bank wrote (the first
eight digits of DTPOSTED and DTUSER). ofxtools converts each time to UTC, which would move
a late-evening booking of a bank east of Greenwich to the day before (and a morning
booking west of it to the day after), so the dates are read from the parsed text instead.
"""

from __future__ import annotations

import io
import warnings
from datetime import date, datetime
from pathlib import Path

from vosbench.core import money
from vosbench.ledger.write_door import Rejection
from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine, sha256_of


def looks_like_ofx(head: bytes) -> bool:
    text = head.lstrip()[:400].upper()
    return text.startswith(b"OFXHEADER") or b"<OFX>" in text or (text.startswith(b"<?XML") and b"OFX" in text)


def parse(path: Path, *, channel: str = "bank", name: str | None = None) -> ParsedStatement:
    """Read every statement of an OFX/QFX file into lines; a file that is not OFX is refused whole."""
    from ofxtools.Parser import OFXTree

    raw = path.read_bytes()
    file = name or path.name
    if not looks_like_ofx(raw):
        raise StatementFileError(f"{file}: not an OFX/QFX file (no OFXHEADER or <OFX> at the start); "
                                 "check the file, or give --profile for a CSV/XLSX export")
    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ofxtools warns on over-long fields that banks do send
            tree.parse(io.BytesIO(raw))
            root = tree.getroot()
            if root is None:  # parse builds the root or raises; typeshed allows an unparsed tree
                raise ValueError("no OFX element")
            written = [(_written_date(element, "DTPOSTED"), _written_date(element, "DTUSER"))  # in document order,
                       for listing in root.iter("BANKTRANLIST")  # as the statements list them
                       for element in listing.iter("STMTTRN")]
            document = tree.convert()
    except Exception as error:  # ofxtools raises a zoo of classes (header, SGML, validation)
        raise StatementFileError(f"{file}: not a valid OFX/QFX file ({type(error).__name__}: {error}); "
                                 "export the statement again from the bank") from None
    statements = list(getattr(document, "statements", []) or [])
    if not statements:
        raise StatementFileError(f"{file}: the OFX file holds no bank or card statement")
    lines, rejections, number = [], [], 0
    for statement in statements:
        account = _account_id(statement)
        currency = str(getattr(statement, "curdef", "") or "")
        listing = statement.banktranlist
        statement_id = f"{account}:{listing.dtstart:%Y-%m-%d}..{listing.dtend:%Y-%m-%d}"
        for transaction in listing:
            number += 1
            try:
                lines.append(_line(transaction, account, statement_id, currency, number, *written[number - 1]))
            except ValueError as error:
                rejections.append(Rejection(file, number, str(error)))
    return ParsedStatement(file, "ofx", channel, "ofx", lines, rejections, sha256_of(raw), len(statements))


def _account_id(statement) -> str:
    account = statement.account
    return str(getattr(account, "acctid", "") or "")


def _written_date(transaction, tag: str) -> date | None:
    """The date the bank wrote in ``tag`` (YYYYMMDD…, before any time and zone), or None when absent."""
    text = (transaction.findtext(tag) or "").strip()
    return datetime.strptime(text[:8], "%Y%m%d").date() if text else None


def _line(transaction, account: str, statement_id: str, currency: str, number: int,
          posted: date | None, value_on: date | None) -> StatementLine:
    if posted is None:
        raise ValueError("DTPOSTED is missing; the bank must date every transaction")
    amount = money.to_minor(transaction.trnamt, field="TRNAMT")
    name = transaction.name or (transaction.payee.name if transaction.payee is not None else "") or ""
    reference = transaction.refnum or transaction.checknum or ""
    raw = {"trntype": transaction.trntype, "dtposted": transaction.dtposted.isoformat(),
           "trnamt": str(transaction.trnamt), "fitid": transaction.fitid, "name": name,
           "memo": transaction.memo or "", "refnum": transaction.refnum or ""}
    currency = (transaction.currency.cursym if transaction.currency is not None else "") or currency
    return StatementLine(
        statement_account=account, statement_id=statement_id, posted_on=posted, value_on=value_on,
        amount=amount, currency=currency or "USD", reference=reference or transaction.fitid,
        counterparty=name, description=transaction.memo or "", raw=raw,
        line_key=f"fitid:{transaction.fitid}", line=number)
