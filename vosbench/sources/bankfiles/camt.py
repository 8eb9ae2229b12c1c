"""ISO 20022 CAMT bank-to-customer messages: camt.053 statements, camt.052 intraday reports and
camt.054 debit/credit notifications, versions 001.02 to 001.13, through one streaming reader.

A message may come wrapped in a business application header (``head.001``) or in the
envelope SWIFT Alliance Access delivers it in (``DataPDU``); what they hold before it is passed over.

The three messages share the entry (``Ntry``) and its details; they differ only in the
wrapper (``BkToCstmrStmt/Stmt``, ``BkToCstmrAcctRpt/Rpt``, ``BkToCstmrDbtCdtNtfctn/Ntfctn``).
The file is read with the standard library's streaming XML parser, entry by entry, each
entry dropped once read, so memory does not grow with the file. Where versions differ —
the entry status is ``<Sts><Cd>BOOK</Cd></Sts>`` from v8 on instead of ``<Sts>BOOK</Sts>``,
a party's name sits under ``<Pty>``, a transaction's amount is ``TxDtls/Amt`` from v3 on
and ``TxDtls/AmtDtls/TxAmt/Amt`` in v2 — both forms are read. A document type or entity
declaration is refused before parsing (no bank sends one; it is how entity tricks start).

Only booked entries are lines: pending and information-only ones (common in camt.052
and camt.054) are counted in a warning. Dates are the dates the bank wrote, with or
without a zone offset (``2017-04-01+02:00``) or a time. An entry without a booking date
(``BookgDt``, optional in the schema) is dated by its value date, or, without one, by
the day of its statement when the statement's balances are all of one day (a settlement
account's daily statement, whose entries carry no date): the entries between an opening
and a closing balance of that day were booked on it. Either way with a warning; an entry
with no date to take is refused.

References: every one the entry and its transactions carry is kept in the raw line
(entry AcctSvcrRef and NtryRef; per transaction AcctSvcrRef, EndToEndId, TxId, InstrId,
the structured creditor reference ``RmtInf/Strd/CdtrRefInf/Ref`` and the unstructured
remittance text). The line's reference is the strongest key the payer chose: the
structured creditor reference, else the end-to-end id, else the bank's own reference.

Batches: an entry whose details give every transaction's amount, adding up exactly to
the entry, is split into one line per transaction; each keeps the entry's reference as
the bank's grouping (``raw.entry``). When the amounts are missing or do not add up, the
entry stays one line (never a guessed split) and the file gets a warning.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from vosbench.core import money
from vosbench.ledger.write_door import Rejection
from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine, balance_gap

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})$")
SUPPORTED_VERSIONS = range(2, 14)
"""camt.05x.001.02 … .13: the element names read here are the same in all of them."""
MESSAGES = {"053": ("BkToCstmrStmt", "Stmt", "statement"), "052": ("BkToCstmrAcctRpt", "Rpt", "report"),
            "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "notification")}
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:$|[T ]|[+-]\d{2}:\d{2}$|Z$)")
_CURRENCY = re.compile(r"[A-Z]{3}")
_NOT_PROVIDED = {"", "NOTPROVIDED", "NONREF"}
_PIECE = 1 << 20  # bytes read at a time
_REFERENCES = ("AcctSvcrRef", "EndToEndId", "TxId", "InstrId", "MsgId", "PmtInfId")


def looks_like_camt(head: bytes) -> bool:
    return any(f"camt.{kind}".encode() in head[:4000] for kind in MESSAGES)


def parse(path: Path, *, channel: str = "bank", name: str | None = None) -> ParsedStatement:
    """Read every statement, report or notification of a CAMT file into lines."""
    parsed, lines = stream(path, channel=channel, name=name)
    parsed.lines = list(lines)
    return parsed


def stream(path: Path, *, channel: str = "bank",
           name: str | None = None) -> tuple[ParsedStatement, Iterator[StatementLine]]:
    """The file's record and its lines, read entry by entry as they are asked for.

    The record's format, counts, rejections and warnings are complete once the lines have
    all been taken; a damaged or empty document raises then.
    """
    file = name or path.name
    digest = hashlib.sha256()
    with path.open("rb") as source:
        head = source.read(_PIECE)
        if any(marker in head[:8192].upper() for marker in _DOCTYPE):
            _refuse_declarations(file)
        tail = b""
        chunk = head
        while chunk:  # the digest, and no entity declaration anywhere (nor across two pieces)
            digest.update(chunk)
            joined = tail + chunk
            if any(marker in joined for marker in _ENTITY):
                _refuse_declarations(file)
            tail = chunk[-_LONGEST_MARKER:]
            chunk = source.read(_PIECE)
    parsed = ParsedStatement(file, "camt", channel, "camt", [], [], digest.hexdigest())
    return parsed, _lines(path, parsed)


_WRAPPERS = ("urn:iso:std:iso:20022:tech:xsd:head.", "urn:swift:saa:xsd:")
"""Namespaces of what a message may come wrapped in, holding no money: a business application header
(``head.001``), and SWIFT Alliance Access's envelope (``DataPDU``) that an MX message arrives in over SWIFTNet."""


def _markers(text: str) -> tuple[bytes, ...]:
    """``text`` as the bytes of each encoding the XML parser reads without a declaration: ASCII-based and UTF-16."""
    return tuple(text.encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))


_DOCTYPE, _ENTITY = _markers("<!DOCTYPE"), _markers("<!ENTITY")
_LONGEST_MARKER = max(len(marker) for marker in _DOCTYPE + _ENTITY)


def _refuse_declarations(file: str) -> None:
    raise StatementFileError(f"{file}: holds a DOCTYPE or ENTITY declaration, which no CAMT message has; "
                             "refused unread: export the statement again from the bank")


def _lines(path: Path, parsed: ParsedStatement) -> Iterator[StatementLine]:
    file = parsed.file
    reader = _Reader(file)
    reader.rejections, reader.warnings = parsed.rejections, parsed.warnings
    try:
        with open(path, "rb") as source:
            yield from reader.read(source)
    except ET.ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise StatementFileError(f"{file}: not well-formed XML at line {line}, column {column} "
                                 f"({str(error).split(':')[0]}); the file is damaged or truncated: export it "
                                 "again") from None
    except RecursionError:
        raise StatementFileError(f"{file}: elements nested too deep to be a CAMT message") from None
    except StatementFileError:
        raise
    except (LookupError, ValueError) as error:  # an encoding the XML declaration names that Python lacks
        raise StatementFileError(f"{file}: cannot be read as XML ({' '.join(str(error).split())[:80]}); "
                                 "save it as UTF-8 or export it again") from None
    if reader.kind is None:
        raise StatementFileError(f"{file}: empty XML document")
    if not reader.statements:
        what = MESSAGES[reader.kind]
        raise StatementFileError(f"{file}: the camt.{reader.kind} document holds no {what[2]} ({what[0]}/{what[1]})")
    if reader.skipped:
        reader.warnings.append(f"{reader.skipped} entr(y/ies) not booked (pending or information only) skipped")
    if reader.undated:
        reader.warnings.append(f"{reader.undated} booked entr(y/ies) with no booking date (BookgDt) were dated by "
                               "their value date (ValDt), or without one by their statement's day (the one date of "
                               "its balances)")
    parsed.format, parsed.profile = f"camt{reader.kind}.{reader.version:02d}", f"camt{reader.kind}"
    parsed.statements = reader.statements


_READ = ("Acct", "AcctSvcrRef", "AddtlNtryInf", "AddtlTxInf", "Amt", "AmtDtls", "Bal", "BkTxCd", "BookgDt", "Ccy", "Cd",
         "CdOrPrtry", "CdtDbtInd", "Cdtr", "CdtrRefInf", "Dbtr", "Domn", "Dt", "DtTm", "Fmly", "IBAN", "Id", "Nm", "Ntry", "NtryDtls",
         "NtryRef", "Othr", "Prtry", "Pty", "Ref", "Refs", "RltdPties", "RmtInf", "Strd", "Sts", "SubFmlyCd", "TxAmt",
         "TxDtls", "Tp", "Ustrd", "ValDt")
"""The local names of the elements an entry and its statement are read from."""


class _Tags:
    """The qualified tags the reader looks for, in the message's namespace: ``q`` by local name.

    With them every lookup of a child is one call into ElementTree's C code (a path
    string would go through ElementPath, in Python, for each of some fifty per entry).
    """

    def __init__(self, prefix: str, kind: str):
        self.q = {local: prefix + local for local in _READ}
        self.entry, self.identifier, self.account = self.q["Ntry"], self.q["Id"], self.q["Acct"]
        self.holder = prefix + MESSAGES[kind][1]
        self.holders = {prefix + holder for _, holder, _ in MESSAGES.values()}
        self.references = {prefix + local: local for local in _REFERENCES}  # a transaction's Refs children read


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.kind = ""  # 052, 053 or 054, from the first element's namespace
        self.version = 0
        self.lines: list[StatementLine] = []
        self.rejections: list[Rejection] = []
        self.warnings: list[str] = []
        self.statements = 0
        self.skipped = 0
        self.undated = 0  # booked entries without a BookgDt, dated by their ValDt or their statement's day
        self.balance_days: set[date | None] = set()  # the current statement's balances' dates (None: unreadable)
        self.balances: dict[str, int] = {}  # the current statement's opening and closing balance, where it gives them
        self.moved = 0  # what the current statement's lines move
        self.refused = 0  # rejections before the current statement: one of its own leaves its balances unchecked
        self.number = 0
        self.references: dict[str, str] = {}  # the message's qualified reference tags, by tag: their local names

    def read(self, stream) -> Iterator[StatementLine]:
        """One pass over end events only: entries are read and cleared as they end.

        The message's namespace is taken from the first element in a CAMT namespace (a
        business application header, ``head.001``, may come first and is passed over).
        A statement's account and id end before its first entry (the schema's order),
        so they are known when the entries are read.
        """
        events = ET.iterparse(stream, events=("end",))
        tags, first = self._message_tags(events)
        q, self.references = tags.q, tags.references
        # the tags asked of every element, as locals; an element of none of them passes with one set lookup
        entry_tag, identifier_tag, account_tag, balance_tag = tags.entry, tags.identifier, tags.account, q["Bal"]
        holder_tags = tags.holders
        others = {identifier_tag, account_tag, balance_tag, *holder_tags}
        account = currency = statement_id = ""
        seen_ids: list = []  # the last few Id elements with text: the holder's own Id is among them
        for _, element in itertools.chain([("end", first)], events):
            tag = element.tag
            if tag == entry_tag:
                self._entry(element, q, account, statement_id, currency)
                element.clear()
                if self.lines:
                    self.moved += sum(line.amount for line in self.lines)
                    yield from self.lines
                    self.lines = []
            elif tag not in others:
                continue
            elif tag == identifier_tag:
                if element.text and element.text.strip():
                    seen_ids = [*seen_ids[-3:], element]
            elif tag == balance_tag:  # before the statement's entries, in the schema's order
                self.balance_days.add(_balance_day(element, q))
                self._balance(element, q)
            elif tag == account_tag:
                if not account:
                    account = (_text(_path(element, q["Id"], q["IBAN"]))
                               or _text(_path(element, q["Id"], q["Othr"], q["Id"])))
                    currency = _findtext(element, q["Ccy"])
                    inside = set(element.iter(identifier_tag))
                    statement_id = next((i.text.strip() for i in reversed(seen_ids) if i not in inside), "")
            else:  # a statement, report or notification ends
                if tag != tags.holder:
                    raise StatementFileError(
                        f"{self.file}: not a valid camt.{self.kind} document: its namespace says camt.{self.kind} "
                        f"but it holds {_local(tag)}, not {_local(tags.holder)}; export it again")
                self.statements += 1
                if not account:
                    self.rejections.append(Rejection(self.file, self.number, (
                        f"{MESSAGES[self.kind][2]} {self.statements}: Acct/Id (IBAN or Othr/Id) is missing")))
                self._check_balances()
                account = currency = statement_id = ""
                seen_ids = []
                self.balance_days = set()
                element.clear()

    def _message_tags(self, events) -> tuple[_Tags, ET.Element]:
        """The message's tags, from the first element to end in a CAMT namespace (returned too: it is read like
        the rest); what wraps it and ends before it is passed over (:data:`_WRAPPERS`)."""
        for _, element in events:
            namespace = element.tag[1:].split("}")[0] if element.tag.startswith("{") else ""
            if not namespace.startswith(_WRAPPERS):
                self._namespace(namespace, element.tag)
                return _Tags("{" + namespace + "}", self.kind), element
        raise StatementFileError(f"{self.file}: no element in a CAMT namespace; not a CAMT statement")

    def _balance(self, balance, q: dict[str, str]) -> None:
        """Keep the statement's opening (OPBD, else PRCD) and closing (CLBD) balance, signed; others pass."""
        kind = {"OPBD": "opening", "PRCD": "opening", "CLBD": "closing"}.get(_text(_path(balance, q["Tp"], q["CdOrPrtry"],
                                                                                          q["Cd"])))
        if kind is None or kind in self.balances:
            return
        try:
            amount = _amount(balance.find(q["Amt"]), "Bal/Amt")[0]
            self.balances[kind] = amount if _direction(_findtext(balance, q["CdtDbtInd"]), "Bal/CdtDbtInd") == "CRDT" \
                else -amount
        except ValueError:
            return  # a balance that does not read moves no line's money: the statement's lines are read all the same

    def _check_balances(self) -> None:
        """At a statement's end: a warning when its opening and its lines do not make its closing."""
        if len(self.rejections) == self.refused and {"opening", "closing"} <= set(self.balances):
            gap = balance_gap(self.balances["opening"], self.balances["closing"], self.moved, "entries")
            if gap:
                self.warnings.append(f"{MESSAGES[self.kind][2]} {self.statements}: {gap}")
        self.balances, self.moved, self.refused = {}, 0, len(self.rejections)

    def _namespace(self, namespace: str, tag: str) -> None:
        found = _NAMESPACE.match(namespace)
        if not found:
            raise StatementFileError(
                f"{self.file}: not a CAMT statement (element {_local(tag)[:40]} in namespace "
                f"{namespace[:80] or 'none'!r}); expected Document in urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN "
                "(or camt.052 / camt.054)")
        self.kind, self.version = found.group(1), int(found.group(2))
        if self.version not in SUPPORTED_VERSIONS:
            raise StatementFileError(f"{self.file}: camt.{self.kind} version 001.{self.version:02d} is not "
                                     f"supported; vosbench reads 001.02 to 001.{SUPPORTED_VERSIONS[-1]:02d}")

    def _entry(self, entry, q: dict[str, str], account: str, statement_id: str, currency: str) -> None:
        self.number += 1
        status_element = entry.find(q["Sts"])
        status = (_findtext(status_element, q["Cd"]) or _text(status_element)) if status_element is not None else ""
        if status and status != "BOOK":
            self.skipped += 1
            return
        try:
            self.lines.extend(self._lines(entry, q, account, statement_id, currency))
        except ValueError as error:
            reference = _findtext(entry, q["AcctSvcrRef"]) or _findtext(entry, q["NtryRef"])
            where = f"entry {self.number}" + (f" ({reference})" if reference else "")
            self.rejections.append(Rejection(self.file, self.number, f"{where}: {error}"))

    def _lines(self, entry, q: dict[str, str], account: str, statement_id: str, currency: str) -> list[StatementLine]:
        amount, entry_currency, amount_text = _amount(entry.find(q["Amt"]), "Amt")
        direction = _direction(_findtext(entry, q["CdtDbtInd"]), "CdtDbtInd")
        currency = entry_currency or currency
        if not currency:
            raise ValueError("Amt has no Ccy and the account gives no currency (Acct/Ccy)")
        signed = amount if direction == "CRDT" else -amount
        value_on = _date(entry.find(q["ValDt"]), q, "ValDt")
        posted = _date(entry.find(q["BookgDt"]), q, "BookgDt")
        if posted is None:
            day = next(iter(self.balance_days)) if len(self.balance_days) == 1 else None
            posted = value_on or day
            if posted is None:
                raise ValueError("BookgDt is missing (BookgDt/Dt or BookgDt/DtTm), and no ValDt or one-day "
                                 "statement gives a date")
            self.undated += 1
        details = [_details(detail, q, self.references, direction) for group in entry.findall(q["NtryDtls"])
                   for detail in group.findall(q["TxDtls"])]
        service_ref, entry_ref = _provided(_findtext(entry, q["AcctSvcrRef"])), _provided(_findtext(entry, q["NtryRef"]))
        additional = _findtext(entry, q["AddtlNtryInf"])
        key = service_ref or entry_ref
        entry_raw = {"amt": amount_text, "ccy": entry_currency, "cdtdbtind": direction,
                     "acctsvcrref": service_ref, "ntryref": entry_ref, "addtlntryinf": additional,
                     **_bank_code(entry.find(q["BkTxCd"]), q)}
        if len(details) > 1 and self._splits(details, signed, currency):
            lines = []
            for index, detail in enumerate(details, start=1):
                raw = {**detail["raw"], "entry": entry_raw, "part": f"{index}/{len(details)}",
                       **{k: v for k, v in entry_raw.items() if k.startswith("bank_")}}
                lines.append(StatementLine(
                    account, statement_id, posted, detail["signed"], currency, value_on,
                    reference=detail["reference"] or service_ref or entry_ref, counterparty=detail["name"],
                    description=_join([detail["text"], additional]), raw=_compact(raw),
                    line_key=f"ref:{key}/{index}" if key else "", line=self.number))
            return lines
        if len(details) == 1:  # the usual entry: one transaction's details
            detail = details[0]
            if detail["signed"] is not None and detail["signed"] * signed < 0:
                raise ValueError(f"CdtDbtInd {direction} of the entry and of its only transaction (TxDtls) differ; "
                                 "which way the money went cannot be told: export the statement again")
            end_to_end = [detail["end_to_end"]] if detail["end_to_end"] else []
            creditor_refs = detail["creditor_refs"]
            names = [detail["name"]] if detail["name"] else []
            remittance = detail["remittance"]
            texts = [additional, detail["text"]]
        else:
            end_to_end = [d["end_to_end"] for d in details if d["end_to_end"]]
            creditor_refs = [r for d in details for r in d["creditor_refs"]]
            names = [d["name"] for d in details if d["name"]]
            remittance = [t for d in details for t in d["remittance"]]
            texts = [additional, *(d["text"] for d in details)]
        reference = (creditor_refs[0] if len(creditor_refs) == 1 else
                     end_to_end[0] if len(end_to_end) == 1 else (service_ref or entry_ref))
        raw = {**entry_raw, "end_to_end_ids": end_to_end, "names": names, "remittance": remittance,
               "creditor_refs": creditor_refs}
        if len(details) == 1:
            raw["refs"] = details[0]["raw"]["refs"]
        elif details:
            raw["transactions"] = [d["raw"] for d in details]
        return [StatementLine(
            account, statement_id, posted, signed, currency, value_on, reference=reference,
            counterparty=names[0] if names else "", description=_join(texts), raw=_compact(raw),
            line_key=f"ref:{key}" if key else "", line=self.number)]

    def _splits(self, details: list[dict], signed: int, currency: str) -> bool:
        if any(d["signed"] is None for d in details):
            return False
        if any(d["currency"] and d["currency"] != currency for d in details) or sum(
                d["signed"] for d in details) != signed:
            self.warnings.append(f"entry {self.number}: its transactions' amounts do not add up to the entry's; "
                                 "kept as one line")
            return False
        return True


def _details(detail, q: dict[str, str], references: dict[str, str], direction: str) -> dict:
    """One TxDtls: its amount (when given), party, and every reference it carries (``references``: the local name of
    each qualified reference tag read, see :class:`_Tags`)."""
    found_amount = detail.find(q["Amt"])
    if found_amount is None:
        found_amount = _path(detail, q["AmtDtls"], q["TxAmt"], q["Amt"])
    signed = tx_currency = None
    amount_text = ""
    if found_amount is not None:
        amount, tx_currency, amount_text = _amount(found_amount, "TxDtls/Amt")
        own = _findtext(detail, q["CdtDbtInd"])
        tx_direction = _direction(own, "TxDtls/CdtDbtInd") if own else direction
        signed = amount if tx_direction == "CRDT" else -amount
    side = "Dbtr" if direction == "CRDT" else "Cdtr"  # the other party: who paid us, or whom we paid
    party = _path(detail, q["RltdPties"], q[side])
    name = (_findtext(party, q["Nm"]) or _text(_path(party, q["Pty"], q["Nm"]))) if party is not None else ""
    found = detail.find(q["Refs"])
    refs = {}
    for child in found if found is not None else ():
        local = references.get(child.tag)
        if local and child.text and (text := child.text.strip()):
            refs[local] = text
    end_to_end = _provided(refs.get("EndToEndId", ""))
    remittance_info = detail.find(q["RmtInf"])
    remittance = creditor_refs = []
    if remittance_info is not None:
        remittance = [text for text in map(_text, remittance_info.findall(q["Ustrd"])) if text]
        creditor_refs = [text for structured in remittance_info.findall(q["Strd"])
                         for info in structured.findall(q["CdtrRefInf"]) for text in map(_text, info.findall(q["Ref"]))
                         if text]
    additional = _findtext(detail, q["AddtlTxInf"])
    reference = (creditor_refs[0] if creditor_refs else end_to_end) or _provided(refs.get("AcctSvcrRef", ""))
    text = _join([*remittance, *(f"Ref {r}" for r in creditor_refs if r != reference), additional])
    raw = {"amt": amount_text, "ccy": tx_currency or "",
           "refs": refs, "creditor_refs": creditor_refs, "remittance": remittance,
           "name": name}
    return {"signed": signed, "currency": tx_currency, "name": name, "end_to_end": end_to_end,
            "creditor_refs": creditor_refs, "remittance": remittance, "reference": reference, "text": text,
            "raw": raw}


def _provided(reference: str) -> str:
    """``reference``, or "" when it says none was given (NONREF, NOTPROVIDED): German savings banks write NONREF
    as every entry's AcctSvcrRef, and a line keyed by it would be taken for the one before it, edited."""
    return "" if reference.upper() in _NOT_PROVIDED else reference


def _bank_code(code, q: dict[str, str]) -> dict:
    """The bank transaction code ``code`` (BkTxCd; None: none): ISO domain/family/sub-family, or the bank's own."""
    if code is None:
        return {}
    domain = code.find(q["Domn"])
    family = domain.find(q["Fmly"]) if domain is not None else None
    codes = {"bank_domain": _findtext(domain, q["Cd"]) if domain is not None else "",
             "bank_family": _findtext(family, q["Cd"]) if family is not None else "",
             "bank_subfamily": _findtext(family, q["SubFmlyCd"]) if family is not None else "",
             "bank_proprietary": _text(_path(code, q["Prtry"], q["Cd"]))}
    return {key: value for key, value in codes.items() if value}


def _compact(raw: dict) -> dict:
    """The raw record without its empty fields: what the bank wrote, and a 100k-entry file kept small."""
    # ``value or …``: most values are non-empty text, kept without comparing them with each empty form
    return {key: (_compact(value) if type(value) is dict else value) for key, value in raw.items()
            if value or not (value is None or isinstance(value, (str, list, dict)))}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _join(parts) -> str:
    return " / ".join(part for part in parts if part)


def _path(element, *tags: str):
    """The first element down ``tags`` from ``element`` (each the first child of that tag), or None."""
    for tag in tags:
        if element is None:
            return None
        element = element.find(tag)
    return element


def _text(element) -> str:
    """The stripped text of ``element``; empty when there is none, or no element."""
    text = element.text if element is not None else None
    return text.strip() if text else ""


def _findtext(element, tag: str) -> str:
    """The stripped text of ``element``'s first ``tag`` child; empty when there is none."""
    text = element.findtext(tag)
    return text.strip() if text else ""


def _amount(found, what: str) -> tuple[int, str, str]:
    """The amount element ``found`` (None: missing) as minor units, its currency and its text."""
    text = found.text.strip() if found is not None and found.text else ""
    if not text:
        raise ValueError(f"{what} is missing")
    if len(text) > 40:  # characters: more digits than any amount a bank holds
        raise ValueError(f"{what} {text[:20]!r}… ({len(text)} characters) is not an amount")
    try:
        amount = money.to_minor(text, field=what)
    except money.MoneyError as error:
        raise ValueError(str(error)) from None
    if amount < 0:
        raise ValueError(f"{what} {text!r} is negative; CAMT amounts are positive and CdtDbtInd gives the sign")
    currency = (found.get("Ccy") or "").strip().upper()
    if currency and not _CURRENCY.fullmatch(currency):
        raise ValueError(f"{what} currency {currency[:20]!r} is not a three-letter ISO 4217 code")
    return amount, currency, text


def _direction(text: str, what: str) -> str:
    if text not in ("CRDT", "DBIT"):
        raise ValueError(f"{what} {text[:20]!r} must be CRDT or DBIT")
    return text


def _date(found, q: dict[str, str], what: str) -> date | None:
    """The date of the date element ``found`` (BookgDt, ValDt), from its Dt or DtTm; None when it gives none."""
    text = (_findtext(found, q["Dt"]) or _findtext(found, q["DtTm"])) if found is not None else ""
    if not text:
        return None
    return _parsed_date(text, what)


def _balance_day(balance, q: dict[str, str]) -> date | None:
    """The date of a statement's balance (Bal/Dt), None when it gives none or none that reads."""
    try:
        return _date(balance.find(q["Dt"]), q, "Bal/Dt")
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)  # a statement repeats the same few hundred date texts
def _parsed_date(text: str, what: str) -> date:
    found = _DATE.match(text)
    try:
        if not found:
            raise ValueError
        return date.fromisoformat(found.group(1))
    except ValueError:
        raise ValueError(f"{what} {text[:40]!r} is not a date in the form YYYY-MM-DD") from None
