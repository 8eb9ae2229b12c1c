"""Anchors: chain heads recorded outside the ledger, and the proof that the ledger still extends them.

A hash chain alone proves nothing to someone who distrusts the file: whoever holds it
can edit a record and recompute every later hash. What they cannot change is a copy of
the heads kept elsewhere — an audit's Fingerprint sheet, a month-close receipt, an
evidence pack. :func:`check` compares the head at the row count the anchor saw with
the ledger's chain, once ``verify`` has recomputed that chain from its records, so a
truncation, a rewritten record and a rebuilt chain all show. Verification from an
anchor trusts it and checks only the records appended since (the stored link at the
anchored row must be the anchored head, and the chain must run on from it), so the
cost follows what is new, not the whole history.

A receipt may carry an HMAC-SHA256 (:func:`seal`) made with a key kept outside the
ledger (``VOSBENCH_ANCHOR_KEY`` or a key file): someone holding the ledger and its
receipts but not the key can then not make a receipt for a history they rewrote. With an
Ed25519 key file instead (:mod:`vosbench.ledger.signing`) the receipt carries a signature:
the private key makes it, the public key checks it and cannot make one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from vosbench.core.errors import VosbenchError
from vosbench.ledger import hashchain, signing, tables
from vosbench.ledger.inspection import Problem
from vosbench.ledger.signing import SigningKey

CheckpointKey = bytes | SigningKey
"""A checkpoint key: HMAC key bytes, or an Ed25519 key (private to sign, public to check)."""
SEALS = ("hmac", "signature")

KEY_ENV = "VOSBENCH_ANCHOR_KEY"
"""Environment variable holding the checkpoint key (as text); a key file is the alternative."""


class AnchorError(VosbenchError, ValueError):
    """An anchor file that cannot be read, or a key that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Anchor:
    """Chain heads a document saw: table → {"rows", "head"[, "last_id"]}; where they came from."""

    source: str
    heads: dict[str, dict]
    document: dict | None = None  # the signed JSON, when the anchor is a receipt


def canonical(document: dict) -> str:
    """The one JSON text of ``document`` that is hashed or signed (sorted keys, no spaces)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_key(key_file: Path | None = None) -> CheckpointKey | None:
    """The checkpoint key: the key file (an Ed25519 PEM key, else HMAC key bytes with the trailing
    newline dropped), else ``VOSBENCH_ANCHOR_KEY``, else None."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().rstrip(b"\r\n")
        except OSError as error:
            raise AnchorError(f"key file {key_file}: {error.strerror}; give a readable file") from None
        if signing.is_pem(key):
            return signing.from_pem(key, str(key_file))
    else:
        key = os.environ.get(KEY_ENV, "").encode("utf-8")
    if key and len(key) < 16:
        raise AnchorError("the checkpoint key is shorter than 16 bytes; use a long random one "
                          "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return key or None


def unsealed(document: dict) -> dict:
    """``document`` without its HMAC or signature: what they are made over."""
    return {name: value for name, value in document.items() if name not in SEALS}


def seal(document: dict, key: CheckpointKey) -> dict:
    """``document`` with ``hmac`` (HMAC-SHA256) or ``signature`` (Ed25519) over its canonical JSON without seals."""
    body = unsealed(document)
    if isinstance(key, SigningKey):
        return {**body, "signature": key.sign(canonical(body))}
    return {**body, "hmac": hmac.new(key, canonical(body).encode("utf-8"), hashlib.sha256).hexdigest()}


def is_sealed(document: dict) -> bool:
    return any(name in document for name in SEALS)


def seal_problem(document: dict, key: CheckpointKey | None, source: str) -> str | None:
    """Why the receipt's HMAC or signature cannot be trusted, or None when it checks (or there is no key)."""
    if key is None:
        return None
    if isinstance(key, SigningKey):
        return key.problem(canonical(unsealed(document)), document.get("signature"), source)
    if "hmac" not in document:
        return f"{source} carries no HMAC: it proves only what its holder could also have written"
    if not hmac.compare_digest(seal(document, key)["hmac"], str(document["hmac"])):
        return f"{source}: its HMAC does not match (the receipt was altered, or made with another key)"
    return None


def load(path: Path) -> Anchor:
    """The anchor in ``path``: a receipt (JSON), an audit workbook (its Fingerprint sheet) or an evidence pack."""
    path = Path(path)
    if not path.is_file():
        found = "is a folder" if path.is_dir() else "is not a regular file" if path.exists() else "does not exist"
        raise AnchorError(f"anchor {path} {found}; give a close receipt (.json), an audit workbook (.xlsx) "
                          "or an evidence pack (.zip)")
    if zipfile.is_zipfile(path) and path.suffix.lower() != ".xlsx":
        return _from_pack(path)
    if path.suffix.lower() == ".xlsx":
        return _from_workbook(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnchorError(f"anchor {path} is not JSON ({error}); give a close receipt, a workbook or a pack") from None
    return from_document(document, str(path))


def from_document(document: dict, source: str) -> Anchor:
    """The anchor a receipt or pack's JSON holds, once its heads (and a receipt's closings) have the shape vosbench
    writes: a malformed file is the file's fault, named as such, never taken for a ledger changed behind its back."""
    heads = document.get("heads") if isinstance(document, dict) else None
    if not isinstance(heads, dict) or not heads:
        raise AnchorError(f"{source} records no chain heads; give a close receipt, a workbook or a pack")
    for name, head in heads.items():
        if not (isinstance(head, dict) and _whole(head.get("rows")) and isinstance(head.get("head"), str)
                and re.fullmatch(r"[0-9a-f]{64}", head["head"]) and _whole(head.get("last_id", 0))):
            raise AnchorError(f"{source}: its chain head of {name!r} is not as vosbench writes one (rows, last_id: whole "
                              "numbers; head: 64 hex digits); give the receipt, workbook or pack as vosbench wrote it")
    closings = document.get("closings")
    if closings is not None and not (isinstance(closings, dict) and all(
            isinstance(account, str) and isinstance(amount, int) and not isinstance(amount, bool)
            for account, amount in closings.items())):
        raise AnchorError(f"{source}: its closings are not as vosbench writes them (account → whole minor units); "
                          "give the receipt as vosbench wrote it")
    return Anchor(source, heads, document)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _from_workbook(path: Path) -> Anchor:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
        rows = list(book["Fingerprint"].iter_rows(values_only=True))
    except KeyError:
        raise AnchorError(f"{path} has no Fingerprint sheet; give a workbook written by `vosbench audit`") from None
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise AnchorError(f"{path} cannot be read as a workbook ({error})") from None
    heads = {}
    for row in rows[1:]:
        if row and row[0] and row[2]:
            heads[str(row[0])] = {"rows": int(row[1]), "head": str(row[2])}
    if not heads:
        raise AnchorError(f"{path}: its Fingerprint sheet is empty")
    return Anchor(str(path), heads)


def _from_pack(path: Path) -> Anchor:
    with zipfile.ZipFile(path) as pack:
        try:  # the pack is the evidence: any file of it that fails its checksum, or cannot be unpacked, spoils it
            damaged = pack.testzip()
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise AnchorError(f"evidence pack {path} is damaged ({error}); `vosbench evidence verify` checks a pack, "
                              "take the auditor's own copy") from None
        if damaged is not None:
            raise AnchorError(f"evidence pack {path} is damaged: {damaged} fails its checksum; `vosbench evidence "
                              "verify` checks a pack, take the auditor's own copy")
        try:
            document = json.loads(pack.read("anchor.json"))
        except KeyError:
            raise AnchorError(f"{path} holds no anchor.json; give an evidence pack written by `vosbench evidence`") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise AnchorError(f"{path}: its anchor.json is not JSON ({error}); give the pack as vosbench wrote it") from None
    return from_document(document, f"{path}:anchor.json")


def check(connection: sa.Connection, anchor: Anchor) -> list[Problem]:
    """Whether the ledger still holds every chain the anchor saw, ending where it saw it end.

    It compares the ledger's stored link at the anchored row with the anchored head; the
    chain verification (from the first row, or from this anchor) proves that link still
    stands for the content of every row before it.
    """
    problems = []
    present = hashchain.anchor_heads(connection)
    for name, seen in sorted(anchor.heads.items()):
        if name not in present:
            problems.append(Problem("anchor", name, None, f"{name}: {anchor.source} saw this chain; the ledger has none"))
            continue
        rows = int(seen["rows"])
        if present[name]["rows"] < rows:
            problems.append(Problem("anchor", name, None,
                                    f"{name}: {anchor.source} saw {rows} rows, the ledger holds "
                                    f"{present[name]['rows']}: rows it saw were removed"))
            continue
        link = hashchain.anchored_link(connection, name, rows, seen.get("last_id"))
        if link is not None and link[1] == hashchain.PURGED:
            continue  # archived and purged: the archive's manifest and its read-back vouched for that row
        if link is None or link[1] != seen["head"]:
            where = "is gone" if link is None else f"(id {link[0]}) now ends the chain in {link[1][:12]}…"
            problems.append(Problem("anchor", name, None if link is None else link[0],
                                    f"{name}: row {rows} {where}, {anchor.source} saw {seen['head'][:12]}…: "
                                    "a record it saw was changed or removed, or the chain rebuilt"))
    return problems


def stored_receipt(text: str, month: str, action: str) -> tuple[dict, str]:
    """A close record's stored receipt read back: the JSON object, and what is wrong with it ('' when nothing).

    vosbench stores the canonical JSON of the receipt it made for that very close or reopen;
    one written behind its back (plain SQL) may be no JSON, or JSON of something else. A
    damaged receipt reads as ``{}``, so that what needs only the record's month, action and
    people goes on; what would trust the receipt names the damage (:func:`damaged_receipt`).
    """
    try:
        document = json.loads(text)
    except ValueError:
        return {}, "it is not JSON"
    if not isinstance(document, dict):
        return {}, "it is no JSON object"
    if document.get("kind") != f"vosbench month {action}" or document.get("month") != month:
        return {}, f"it is no {action} receipt of {month}"
    return document, ""


def damaged_receipt(record_id: int, month: str, action: str, by: str, damage: str, *, refused: str = "",
                    reopen: str = "", superseded: bool = False) -> str:
    """The sentence naming a close record whose receipt is damaged, what is ``refused`` for it, and the fix (with
    ``reopen``, how the reopen is asked for). A reopen, or a ``superseded`` close (a later record of its month took
    its place), refuses nothing, but stays in the append-only table."""
    if action == "close" and not superseded:
        fix = f"reopen {month}{reopen} and close it again, or restore the ledger from a backup"
    else:
        fix = (f"it refuses nothing ({f'a later record of {month} took its place' if superseded else 'it is a reopen'}); "
               "only restoring the ledger from a backup removes it")
    return (f"month close record {record_id} ({action} of {month} by {by}) holds a damaged receipt ({damage}): "
            f"vosbench never writes one, it was written behind its back, and it vouches for nothing{refused}; "
            f"{fix}")


def inside(connection: sa.Connection, key: CheckpointKey | None) -> tuple[list[Anchor], list[Problem]]:
    """The close receipts the ledger holds as anchors, and the problems of those whose HMAC fails or that are
    damaged."""
    anchors, problems = [], []
    table = tables.month_closes
    rows = connection.execute(sa.select(table.c.id, table.c.month, table.c.action, table.c.closed_by, table.c.receipt)
                              .order_by(table.c.id)).all()
    latest = {row.month: row.id for row in rows}
    for row in rows:
        document, damage = stored_receipt(row.receipt, row.month, row.action)
        source = f"month close record {row.id} ({row.month})"
        if not damage:
            trouble = seal_problem(document, key, source)
            if trouble:
                problems.append(Problem("anchor", "month_closes", row.id, trouble))
                continue
            try:
                anchors.append(from_document(document, source))
                continue
            except AnchorError:
                damage = "its chain heads or closings are not as vosbench writes them"
        problems.append(Problem("anchor", "month_closes", row.id,
                                damaged_receipt(row.id, row.month, row.action, row.closed_by, damage,
                                                superseded=latest[row.month] != row.id)))
    return anchors, problems
