"""A Merkle tree over the payments' chain hashes: one record's inclusion proven in logarithmic time.

The hash chain proves a record only to someone who rehashes everything after it. A
close receipt also records the root of a Merkle tree whose leaves are the payments'
stored hashes in id order (the tree of RFC 6962, as certificate-transparency logs use:
a leaf is sha256(0x00 ‖ hash), a node sha256(0x01 ‖ left ‖ right), the split at the
largest power of two below the size). :func:`inclusion_proof` gives the log2(n) sibling
hashes that lead from one record to that root, so a customer or an outside auditor
holding only the receipt and the proof checks a single record (:func:`verify_inclusion`)
without the ledger. :func:`consistency_proof` (RFC 9162, section 2.1.4) proves that the tree
of an earlier receipt is a prefix of a later one's — nothing it covered was changed or
removed since — in log2(n) hashes, checked by :func:`verify_consistency` with both roots only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from vosbench.ledger import hashchain, tables
from vosbench.ledger.database import StoreError


def _leaf(value: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(value)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two below ``size`` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def _root(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    cut = _split(len(leaves))
    return _node(_root(leaves[:cut]), _root(leaves[cut:]))


def root(hashes: Sequence[str]) -> str:
    """The tree's root over ``hashes`` (hex chain hashes, in id order); sha256 of nothing for none."""
    if not hashes:
        return hashlib.sha256(b"").hexdigest()
    level = [_leaf(value) for value in hashes]
    return _root(level).hex()


def inclusion_proof(hashes: Sequence[str], index: int) -> list[str]:
    """The sibling hashes from leaf ``index`` (0-based) up to the root, nearest first."""
    leaves = [_leaf(value) for value in hashes]
    path: list[str] = []

    def walk(part: Sequence[bytes], at: int) -> None:
        if len(part) == 1:
            return
        cut = _split(len(part))
        if at < cut:
            walk(part[:cut], at)
            path.append(_root(part[cut:]).hex())
        else:
            walk(part[cut:], at - cut)
            path.append(_root(part[:cut]).hex())

    walk(leaves, index)
    return path


def verify_inclusion(value: str, index: int, size: int, proof: Sequence[str], expected_root: str) -> bool:
    """Whether ``value`` is leaf ``index`` of the tree of ``size`` leaves with root ``expected_root``."""
    if not 0 <= index < size:
        return False
    node, steps = _leaf(value), list(proof)

    def climb(at: int, width: int) -> bytes | None:
        # the same descent as inclusion_proof, unwound from the leaf: which side each sibling is on
        if width == 1:
            return node
        cut = _split(width)
        if at < cut:
            below = climb(at, cut)
            return None if below is None or not steps else _node(below, bytes.fromhex(steps.pop(0)))
        below = climb(at - cut, width - cut)
        return None if below is None or not steps else _node(bytes.fromhex(steps.pop(0)), below)

    try:
        found = climb(index, size)
    except ValueError:  # a sibling that is not hex
        return False
    return found is not None and not steps and found.hex() == expected_root


def consistency_proof(hashes: Sequence[str], old_size: int) -> list[str]:
    """The hashes proving the tree of the first ``old_size`` leaves is a prefix of the tree over all ``hashes``."""
    if not 0 < old_size <= len(hashes):
        raise ValueError(f"an earlier tree of {old_size} leaves is not a prefix of one of {len(hashes)}")
    leaves = [_leaf(value) for value in hashes]

    def sub(m: int, part: Sequence[bytes], complete: bool) -> list[bytes]:
        if m == len(part):
            return [] if complete else [_root(part)]
        cut = _split(len(part))
        if m <= cut:
            return [*sub(m, part[:cut], complete), _root(part[cut:])]
        return [*sub(m - cut, part[cut:], False), _root(part[:cut])]

    return [node.hex() for node in sub(old_size, leaves, True)]


def verify_consistency(old_size: int, new_size: int, old_root: str, new_root: str, proof: Sequence[str]) -> bool:
    """Whether ``proof`` shows the tree of ``old_size`` leaves (``old_root``) is a prefix of the one of
    ``new_size`` leaves (``new_root``): RFC 9162's algorithm, from the two roots alone."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    try:
        path = [bytes.fromhex(value) for value in proof]
        if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node of the new tree
            path.insert(0, bytes.fromhex(old_root))
    except ValueError:  # a hash that is not hex
        return False
    if not path:
        return False
    first, second = old_size - 1, new_size - 1
    while first & 1:
        first, second = first >> 1, second >> 1
    old_node = new_node = path[0]
    for node in path[1:]:
        if second == 0:
            return False
        if first & 1 or first == second:
            old_node, new_node = _node(node, old_node), _node(node, new_node)
            while not first & 1 and first:
                first, second = first >> 1, second >> 1
        else:
            new_node = _node(new_node, node)
        first, second = first >> 1, second >> 1
    return old_node.hex() == old_root and new_node.hex() == new_root and second == 0


def payment_hashes(connection: sa.Connection, through_id: int) -> list[str]:
    """The payments' stored chain hashes up to id ``through_id``, in id order: the tree's leaves.

    Those a retention purge removed are read from their archive's Parquet file, whose
    read-back checked every one of them against the chain.
    """
    payments = tables.payments
    stored: dict[int, str] = {row_id: row_hash for row_id, row_hash in connection.execute(
        sa.select(payments.c.id, payments.c.hash).where(payments.c.id <= through_id))}
    if len(stored) < through_id:
        stored.update(_archived_hashes(connection, through_id))
    return [stored[row_id] for row_id in range(1, through_id + 1) if row_id in stored]


def _archived_hashes(connection: sa.Connection, through_id: int) -> dict[int, str]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found: dict[int, str] = {}
    for folder in connection.scalars(sa.select(tables.archives.c.folder).order_by(tables.archives.c.id)):
        path = Path(folder) / "payments.parquet"
        try:
            held = pq.read_table(path, columns=["id", "hash"])
        except (OSError, ValueError):
            raise StoreError(f"the Merkle tree over the payments needs those archived in {folder}, which cannot "
                             "be read; put the archive back at that path") from None
        held = held.filter(pc.less_equal(held["id"], through_id))
        found.update(zip(held["id"].to_pylist(), held["hash"].to_pylist()))
    return found


def payment_proof(connection: sa.Connection, payment_id: int, size: int) -> dict:
    """What proves payment ``payment_id`` is among the first ``size`` the tree covers: its record, link and path."""
    payments = tables.payments
    row = connection.execute(sa.select(payments).where(payments.c.id == payment_id)).one_or_none()
    if row is None or payment_id > size:
        return {}
    hashes = payment_hashes(connection, size)
    values = [row._mapping[name] for name in hashchain.chained_columns(payments)]
    return {"kind": "vosbench payment inclusion proof", "payment": payment_id, "values": values,
            "previous": hashes[payment_id - 2] if payment_id > 1 else hashchain.GENESIS, "hash": row.hash,
            "index": payment_id - 1, "size": size, "root": root(hashes),
            "path": inclusion_proof(hashes, payment_id - 1)}


def check_proof(proof: dict, expected_root: str) -> str | None:
    """Why ``proof`` does not prove its payment under ``expected_root``, or None when it does (offline, log n)."""
    try:
        if hashchain.row_hash(proof["previous"], proof["values"]) != proof["hash"]:
            return f"payment {proof['payment']}: its values do not hash to its chain link (the record was changed)"
        if proof["root"] != expected_root:
            return f"the proof leads to root {str(proof['root'])[:12]}…, the anchor holds {expected_root[:12]}…"
        if not verify_inclusion(proof["hash"], int(proof["index"]), int(proof["size"]), proof["path"], expected_root):
            return f"payment {proof['payment']}: its path does not lead to the anchored root"
    except (KeyError, TypeError, ValueError) as error:
        return f"the proof is incomplete or malformed ({error})"
    return None
