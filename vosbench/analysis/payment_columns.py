"""The payments as columns for the explore panel: numpy arrays kept beside the ledger, in sync with it.

The panel's questions (counts and totals per kind, a page, the charts) each read a few fields
of many records. Read as rows through SQL, a broad filter at 10M records costs seconds; read as
columns it costs a scan of a few arrays. :func:`current` gives the columns of the ledger as the
engine's login sees it — id, occurred_at (naive UTC as int64 microseconds), account_id, kind,
channel, method, operator and memo as codes of a vocabulary, and amount in minor units — sorted by
(occurred_at, id), so a period is a slice (:func:`numpy.searchsorted`) and "newest first" reads
from the end.

A text filter ("reference or memo contains") is answered from them on SQLite when it can be exactly
(:meth:`PaymentColumns.answers_text`): the memos are coded, so the database's own LIKE decides which
of the few different memos hold the text; references are mostly all different, so only the three-byte
pieces found in any of them are kept (:data:`TRIGRAMS` bits), and a text with a piece found in no
reference is held by none. A text some reference may hold is left to SQL (its index and LIKE).

They live as ``.npy`` files memory-mapped read-only (every kernel and every process shares the
pages) in a cache folder per ledger *and* login (:func:`cache_folder`: the URL with its user, so
a reseller's scoped login keeps only the rows it may read), one generation folder at a time and a
``current`` file naming it, replaced atomically. Each file's type, length and CRC-32 are kept with its
generation and tested when a process first loads it: a file damaged on disk (a bad sector, a partial
copy, bytes written over) is never read as money — the generation is built again. A cache folder
that cannot be written (a full disk, a read-only home) leaves the panel answering from SQL, saying why.

The payments table is append-only (its guards refuse UPDATE and DELETE; only an archive purge
deletes, and it records each purged range), and appends are serialised by the payment chain's
head lock, so ids commit in order. A generation is therefore current when the ledger's first and
last kept records still carry the hashes kept with it and the purged ranges are as many: then
only records with a higher id are missing and are read and added (:func:`refresh`). Anything
else — a replaced file, a purge, rows gone — builds the columns again from scratch. Until they
are current, :func:`current` answers None and the caller asks SQL; a large build runs in a
background thread (:func:`current` with ``build_in_background``), so the first open of a large
ledger never waits for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.ledger import database, tables

FORMAT = 4
"""The layout of a generation folder; a folder of another layout is built again."""

FIELDS = ("id", "at", "account", "kind", "channel", "method", "operator", "memo", "amount")
"""The kept columns, one ``.npy`` file each."""

_CODED = ("kind", "channel", "method", "operator")
"""Fields kept as codes into a vocabulary (the words in first-seen order). Memos (never NULL) are coded too, into
:attr:`PaymentColumns.memos`."""

MEMO_WORDS = 100_000
"""Memos are kept while the ledger holds at most this many different ones (each text filter tests every one);
past it the memo column holds zeros, :attr:`PaymentColumns.memos` is None, and text filters are left to SQL."""

TRIGRAMS = 1 << 24
"""Every three-byte piece: the bits of which occur in some reference (ASCII lower-cased, UTF-8)."""

CHUNK = 250_000
"""Records read per statement while building: the Python objects of one chunk at a time."""

SYNC_IN_LINE = 50_000
"""New records added while the caller waits; more are added in the background."""

BACKGROUND_FROM = 200_000
"""Ledgers with fewer records are answered by SQL alone (fast there): no columns are built for them
unless asked (:func:`refresh`)."""

_payments = tables.payments
_log = logging.getLogger(__name__)
_EPOCH = np.datetime64("1970-01-01T00:00:00", "us")


@dataclass(frozen=True)
class PaymentColumns:
    """One generation of the columns, memory-mapped; ``vocabulary[field]`` names each code of a coded field."""

    id: np.ndarray
    at: np.ndarray
    account: np.ndarray
    kind: np.ndarray
    channel: np.ndarray
    method: np.ndarray
    operator: np.ndarray
    memo: np.ndarray
    amount: np.ndarray
    vocabulary: dict[str, list[str]]
    largest: int
    """The largest |amount|: count × largest bounds any sum (int64 is exact below 2**63)."""
    memos: list[str] | None
    """The different memos, which the memo codes name; None when not kept."""
    reference_pieces: np.ndarray
    """:data:`TRIGRAMS` bits, packed (:func:`numpy.packbits`): which three-byte pieces occur in some reference."""

    def __len__(self) -> int:
        return len(self.id)

    def answers_text(self, text: str, dialect: str) -> bool:
        """Whether a "reference or memo contains ``text``" filter can be answered from the columns exactly: on
        SQLite (whose LIKE ignores ASCII case only, as the kept pieces do), with the memos kept, and no reference
        holding ``text`` — one of its three-byte pieces occurs in none (a text under three bytes cannot be told)."""
        pieces = _pieces(text.encode("utf-8", "surrogatepass").lower())
        if dialect != "sqlite" or self.memos is None or "\x00" in text or not len(pieces):
            return False
        bits = (self.reference_pieces[pieces >> 3] >> (7 - (pieces & 7))) & 1
        return not bool(bits.all())

    @cached_property
    def memo_words(self) -> str:
        """The different memos as a JSON array, which the database's LIKE tests one by one."""
        return json.dumps(self.memos)

    def codes(self, field: str, words) -> list[int]:
        """The codes of ``words`` in ``field``'s vocabulary (words never seen have none)."""
        index = {word: code for code, word in enumerate(self.vocabulary[field])}
        return [index[word] for word in words if word in index]


def _pieces(data: bytes) -> np.ndarray:
    """The three-byte pieces of ``data`` as numbers below :data:`TRIGRAMS`."""
    values = np.frombuffer(data, dtype=np.uint8).astype(np.int32)
    return (values[:-2] << 16) | (values[1:-1] << 8) | values[2:]


def _coded(column, words: list, index: dict) -> np.ndarray:
    """``column``'s values as int32 codes into ``words`` (first-seen order; new words are added to it and to its
    ``index``)."""
    import pandas as pd  # factorize: hashing words in C, where a dict in Python took seconds at 10M

    codes, found = pd.factorize(np.array(column, dtype=object))
    for word in found:
        if word not in index:
            index[word] = len(index)
            words.append(word)
    return np.array([index[word] for word in found], dtype=np.int32)[codes]


@dataclass
class _Texts:
    """What a build keeps of the records' texts as it reads them: the different memos (None once past
    :data:`MEMO_WORDS`) and which pieces occur in the references (:data:`TRIGRAMS` booleans)."""

    memos: list[str] | None
    pieces: np.ndarray

    def __post_init__(self) -> None:
        self._index = {word: code for code, word in enumerate(self.memos or ())}

    def memo_codes(self, column) -> np.ndarray:
        """The codes of a chunk's memos (zeros once the memos are not kept)."""
        if self.memos is not None:
            codes = _coded(column, self.memos, self._index)
            if len(self.memos) <= MEMO_WORDS:
                return codes
            self.memos = None
        return np.zeros(len(column), dtype=np.int32)

    def note_references(self, column) -> None:
        """Mark the pieces of a chunk's references (never NULL), ASCII lower-cased as SQLite's LIKE compares.
        They are joined by NUL, which no searched text holds, so a piece across two is one no text looks up."""
        joined = "\x00".join(column)
        self.pieces[_pieces(joined.encode("utf-8", "surrogatepass").lower())] = True


@dataclass(frozen=True)
class BuildProgress:
    """How far a running build has read: ``read`` records of about ``expected`` (ids count the records).

    Reading is most of a build; after it the columns are sorted and written (``read`` = ``expected``)."""

    read: int
    expected: int

    @property
    def share(self) -> float:
        """The part read, 0 to 1 (a display share, not money)."""
        return min(1.0, self.read / self.expected) if self.expected > 0 else 1.0


@dataclass(frozen=True)
class _Marks:
    """What a generation was taken from: its first and last record and their hashes, the purges before it."""

    count: int
    first_id: int
    first_hash: str
    last_id: int
    last_hash: str
    purges: int
    seen: str
    """Which accounts the login sees (:func:`_seen`): a scoped login's records change with its subtree."""


def cache_root() -> Path:
    """Where column caches live: ``$VOSBENCH_CACHE``, else ``$XDG_CACHE_HOME/vosbench``, else ``~/.cache/vosbench``."""
    given = os.environ.get("VOSBENCH_CACHE")
    if given:
        return Path(given)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vosbench"


def cache_folder(engine: Engine) -> Path:
    """The folder of ``engine``'s ledger as its login sees it: the URL with its user (never the password),
    a SQLite file by its absolute path."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    key = url.render_as_string(hide_password=True)
    return cache_root() / "columns" / hashlib.sha256(key.encode()).hexdigest()[:32]


# --- checking a generation against the ledger ----------------------------------------------------

def _purges(connection: sa.Connection) -> int:
    purged = tables.purged_ranges
    return int(connection.scalar(sa.select(sa.func.count()).select_from(purged)
                                 .where(purged.c.table_name == _payments.name)) or 0)


def _seen(connection: sa.Connection) -> str:
    """The accounts whose records the login reads, as count, sum and sum of squares of their ids; "" on SQLite.

    On a server a reseller's or agent's scoped login (:mod:`vosbench.ledger.scopes`) reads the records of
    its subtree: an account moved into it brings older records (ids below the kept ones), one moved out takes
    its records away, and the columns must then be built again — they never hold what the login cannot read.
    A SQLite file has no logins.
    """
    if connection.dialect.name == "sqlite":
        return ""
    ids = sa.cast(tables.current_accounts.c.id, sa.BigInteger)
    count, total, squares = connection.execute(
        sa.select(sa.func.count(), sa.func.sum(ids), sa.func.sum(ids * ids)).select_from(tables.current_accounts)).one()
    return f"{count}:{total}:{squares}"


def _hash_of(connection: sa.Connection, record_id: int) -> str | None:
    return connection.scalar(sa.select(_payments.c.hash).where(_payments.c.id == record_id))


def _state(connection: sa.Connection, marks: _Marks | None) -> tuple[str, int | None]:
    """("current" | "behind" | "stale", the ledger's newest id): whether ``marks`` still describe the ledger's
    records up to their last id (then "behind" when newer ones exist). Four look-ups of one key each."""
    newest = connection.scalar(sa.select(sa.func.max(_payments.c.id)))
    if marks is None or newest is None or marks.count == 0:
        return ("stale", newest)
    if (newest < marks.last_id or _purges(connection) != marks.purges
            or _hash_of(connection, marks.first_id) != marks.first_hash
            or _hash_of(connection, marks.last_id) != marks.last_hash or _seen(connection) != marks.seen):
        return ("stale", newest)
    return ("current" if newest == marks.last_id else "behind", newest)


# --- reading records into columns ----------------------------------------------------------------

def _read(engine: Engine, after: int, vocabulary: dict[str, list[str]], texts: _Texts,
          report: Callable[[int], None]) -> tuple[dict[str, np.ndarray], tuple[int, str]]:
    """The records with id > ``after`` as columns in id order (coded fields coded into ``vocabulary``, memos and
    references kept in ``texts``, both growing), and the purges and the accounts seen (:func:`_seen`) when reading
    began. ``report`` is told the records read so far after each chunk."""
    p = _payments
    selected = (p.c.id, sa.type_coerce(p.c.occurred_at, sa.String), p.c.account_id, p.c.kind, p.c.channel,
                p.c.method, p.c.operator, p.c.memo, p.c.amount, p.c.reference)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in FIELDS}
    indexes = {field: {word: code for code, word in enumerate(words)} for field, words in vocabulary.items()}
    # unmapped: the pages of a whole read of the journal would stay resident (3.2 GB at 10M), the page cache is bounded
    with database.unmapped(engine), engine.connect() as connection:
        seen = (_purges(connection), _seen(connection))
        while True:
            rows = connection.execute(sa.select(*selected).where(p.c.id > after).order_by(p.c.id).limit(CHUNK)).all()
            if not rows:
                break
            values = list(zip(*rows))
            parts["id"].append(np.array(values[0], dtype=np.int64))
            times = np.array([str(value) for value in values[1]], dtype="datetime64[us]")
            parts["at"].append((times - _EPOCH).astype(np.int64))
            parts["account"].append(np.array(values[2], dtype=np.int32))
            for field, column in zip(_CODED, values[3:7], strict=True):
                parts[field].append(_coded(column, vocabulary[field], indexes[field]))
            parts["memo"].append(texts.memo_codes(values[7]))
            parts["amount"].append(np.array(values[8], dtype=np.int64))
            texts.note_references(values[9])
            after = int(values[0][-1])
            report(sum(len(chunk) for chunk in parts["id"]))
    empty = {"at": np.int64, "id": np.int64, "amount": np.int64}
    return ({name: np.concatenate(chunks) if chunks else np.zeros(0, empty.get(name, np.int32))
             for name, chunks in parts.items()}, seen)


def _narrowed(field: str, values: np.ndarray) -> np.ndarray:
    """Codes in the smallest integer type that holds them (kinds, channels, methods: one byte)."""
    if field in ("kind", "channel", "method") and (len(values) == 0 or values.max() < 127):
        return values.astype(np.int8)
    return values


# --- generations on disk -------------------------------------------------------------------------

def _load(folder: Path, *, check: bool = True) -> tuple[PaymentColumns, _Marks] | None:
    """The generation ``folder``'s ``current`` file names, memory-mapped; None when there is none, or it is
    unreadable, or (``check``) a file's type, length or CRC-32 is not what was written (damaged on disk)."""
    try:
        generation = folder / (folder / "current").read_text().strip()
        meta = json.loads((generation / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            return None
        arrays = {name: np.load(generation / f"{name}.npy", mmap_mode="r") for name in FIELDS}
        pieces = np.load(generation / _PIECES)
        if check and _fingerprints({**arrays, _PIECES: pieces}) != meta["files"]:
            _log.warning("the payment columns in %s are damaged (a file differs from what was written): they are "
                         "built again, and SQL answers meanwhile", generation)
            return None
        return (PaymentColumns(**arrays, vocabulary=meta["vocabulary"], largest=int(meta["largest"]), memos=meta["memos"],
                               reference_pieces=pieces), _Marks(**meta["marks"]))
    except (OSError, ValueError, KeyError, TypeError):  # half written, or damaged: built again
        return None


_PIECES = "reference_pieces.npy"


def _fingerprints(arrays: dict[str, np.ndarray]) -> dict[str, list]:
    """Each array's type, length and CRC-32 of its bytes (0.2 s per 400 MB): what :func:`_load` tests against damage.

    Not a defence against a forger (who could write ``meta.json`` too, in a cache that is the login's own), but
    against the disk and the accidents that would otherwise turn into wrong totals without a word."""
    return {name: [values.dtype.str, len(values), zlib.crc32(np.ascontiguousarray(values).data.cast("B"))]
            for name, values in arrays.items()}


def _save(folder: Path, arrays: dict[str, np.ndarray], vocabulary: dict[str, list[str]], texts: _Texts,
          marks: _Marks) -> None:
    """Write a new generation and make it the current one (atomically: readers see the old or the new)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"g{time.time_ns()}-{os.getpid()}-{threading.get_ident()}"
    generation = folder / name
    generation.mkdir()
    written = {**{field: np.ascontiguousarray(arrays[field]) for field in FIELDS}, _PIECES: np.packbits(texts.pieces)}
    for file, values in written.items():
        path = generation / (file if file == _PIECES else f"{file}.npy")
        np.save(path, values)
        path.chmod(0o444)  # mapped by every kernel: a file cut short under a mapping kills its process (SIGBUS)
    largest = int(np.abs(arrays["amount"]).max()) if len(arrays["amount"]) else 0
    (generation / "meta.json").write_text(json.dumps({"format": FORMAT, "vocabulary": vocabulary, "memos": texts.memos,
                                                      "largest": largest, "marks": marks.__dict__,
                                                      "files": _fingerprints(written)}))
    pointer = folder / f"current.{name}"
    pointer.write_text(name)
    os.replace(pointer, folder / "current")
    for old in folder.iterdir():  # mapped files of an old generation stay readable to whoever maps them
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def _marks(arrays: dict[str, np.ndarray], engine: Engine, seen: tuple[int, str]) -> _Marks:
    """The marks of ``arrays``: their first and last record's hash now, and the purges and accounts ``seen``."""
    ids = arrays["id"]
    first, last = int(ids.min()), int(ids.max())
    with engine.connect() as connection:
        return _Marks(len(ids), first, _hash_of(connection, first) or "", last, _hash_of(connection, last) or "", *seen)


def refresh(engine: Engine) -> PaymentColumns | None:
    """Bring ``engine``'s columns up to date now — add the new records, or build them all again when the kept
    ones no longer describe the ledger — and return them (None for a ledger without payments)."""
    folder = cache_folder(engine)
    with _lock(folder):
        try:
            return _refreshed(engine, folder)
        finally:
            _PROGRESS.pop(folder, None)


def _refreshed(engine: Engine, folder: Path) -> PaymentColumns | None:
    """:func:`refresh`'s work, under the folder's lock; how far it has read is kept in :data:`_PROGRESS`."""
    kept = _LOADED.get(folder) or _load(folder)  # the generation this process loaded was tested then
    with engine.connect() as connection:
        state, newest = _state(connection, kept[1] if kept else None)
    if state == "current" and kept:
        return kept[0]
    after = kept[1].last_id if state == "behind" and kept else 0
    expected = max(0, (newest or 0) - after)

    def report(read: int) -> None:
        _PROGRESS[folder] = BuildProgress(read, expected)

    report(0)
    if state == "behind" and kept:
        columns, _ = kept
        vocabulary = {field: list(words) for field, words in columns.vocabulary.items()}
        texts = _Texts(None if columns.memos is None else list(columns.memos),
                       np.unpackbits(columns.reference_pieces).astype(bool))
        added, seen = _read(engine, after, vocabulary, texts, report)
        old = {name: np.asarray(getattr(columns, name)) for name in FIELDS}
        arrays = {name: np.concatenate([old[name], added[name].astype(old[name].dtype)]) for name in FIELDS}
        in_order = len(added["at"]) == 0 or len(old["at"]) == 0 or added["at"][0] >= old["at"][-1]
    else:
        vocabulary = {field: [] for field in _CODED}
        texts = _Texts([], np.zeros(TRIGRAMS, dtype=bool))
        arrays, seen = _read(engine, 0, vocabulary, texts, report)
        if not len(arrays["id"]):
            return None
        in_order = False
    report(expected)  # read: what is left is sorting and writing
    if not in_order or not bool(np.all(np.diff(arrays["at"]) >= 0)):
        order = np.lexsort((arrays["id"], arrays["at"]))
        arrays = {name: values[order] for name, values in arrays.items()}
    if texts.memos is None:  # past MEMO_WORDS: the codes read before that are kept no more either
        arrays["memo"] = np.zeros(len(arrays["memo"]), dtype=np.int32)
    arrays = {name: _narrowed(name, values) for name, values in arrays.items()}
    _save(folder, arrays, vocabulary, texts, _marks(arrays, engine, seen))
    _LOADED.pop(folder, None)
    loaded = _load(folder, check=False)  # just written from the arrays in hand
    if loaded:
        _LOADED[folder] = loaded
    return loaded[0] if loaded else None


_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_BUILDING: set[Path] = set()
_PROGRESS: dict[Path, BuildProgress] = {}
_LOADED: dict[Path, tuple[PaymentColumns, _Marks]] = {}
_SWITCHED_OFF: weakref.WeakSet[Engine] = weakref.WeakSet()
_UNSAVED: dict[Path, str] = {}
"""Cache folders this process could not write to, and why: no build is tried again there (each would read the whole
ledger only to fail at saving); SQL answers, and :func:`failure` says why."""


def switch_off(engine: Engine) -> None:
    """Answer every question of ``engine`` from SQL alone (the reference the columns are compared with)."""
    _SWITCHED_OFF.add(engine)


def _lock(folder: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(folder, threading.Lock())


def current(engine: Engine, *, build_in_background: bool = True) -> PaymentColumns | None:
    """The columns when they describe the ledger exactly as it is now, else None (the caller asks SQL).

    A few new records are added while the caller waits (up to :data:`SYNC_IN_LINE`); more, or a build from
    scratch, run in a background thread when ``build_in_background`` and the ledger holds at least
    :data:`BACKGROUND_FROM` records (a build of 10M records takes minutes; the panel meanwhile asks SQL).
    """
    if engine in _SWITCHED_OFF:
        return None
    folder = cache_folder(engine)
    kept = _LOADED.get(folder) or _load(folder)
    try:
        with engine.connect() as connection:
            state, newest = _state(connection, kept[1] if kept else None)
    except sa.exc.DBAPIError:  # a login that may not read the purge record: SQL answers alone
        return None
    if state == "current" and kept:
        _LOADED[folder] = kept
        return kept[0]
    if newest is None:
        return None
    if folder in _UNSAVED:
        return None
    if state == "behind" and kept and newest - kept[1].last_id <= SYNC_IN_LINE and folder not in _BUILDING:
        try:
            return refresh(engine)
        except OSError as error:  # SQL answers; the note says why the columns are not kept current
            _unsaved(folder, error)
            return None
    if build_in_background and newest >= BACKGROUND_FROM:  # ids count the records (appends only, few purged)
        _in_background(engine, folder)
    return None


def _unsaved(folder: Path, error: OSError) -> None:
    """After a save to ``folder`` failed with ``error``: remember that it cannot be written (see :data:`_UNSAVED`)
    and say so once; unless it still takes a file of a few columns' size, when the save lost a race with another
    process's (which removes every other generation, this one's half written too): tried again at the next answer."""
    if _takes_files(folder):
        _log.info("the payment columns of %s were not saved this time (%s); tried again later", folder, error)
        return
    reason = f"{error.strerror or error} ({error.filename or folder})"
    _UNSAVED[folder] = reason
    _log.warning("the payment columns cannot be saved in %s: %s; the panel answers from the database. Set "
                 "VOSBENCH_CACHE to a folder you may write to and restart the kernel for fast answers", folder, reason)


_PROBE_BYTES = 1 << 20


def _takes_files(folder: Path) -> bool:
    """Whether ``folder`` takes a new file of :data:`_PROBE_BYTES` now (a read-only or full disk, a file-size limit
    refuse it); the probe is removed."""
    probe = folder / f".probe-{os.getpid()}-{threading.get_ident()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as written:
            written.write(bytes(_PROBE_BYTES))
        return True
    except OSError:
        return False
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:  # the folder refused the probe's name too: nothing to remove
            pass


def failure(engine: Engine) -> str | None:
    """Why ``engine``'s columns cannot be kept in this process (a cache folder it cannot write), or None."""
    return _UNSAVED.get(cache_folder(engine))


def _in_background(engine: Engine, folder: Path) -> None:
    """Start :func:`refresh` in a daemon thread unless one is already running for ``folder``."""
    with _LOCKS_GUARD:
        if folder in _BUILDING:
            return
        _BUILDING.add(folder)

    def run() -> None:
        try:
            refresh(engine)
        except OSError as error:
            _unsaved(folder, error)
        except Exception as error:  # a thread's traceback would land in the notebook; SQL keeps answering
            _log.warning("the payment columns of %s could not be built: %s: %s", folder, type(error).__name__, error)
        finally:
            with _LOCKS_GUARD:
                _BUILDING.discard(folder)

    threading.Thread(target=run, name=f"payment-columns-{folder.name[:8]}", daemon=True).start()


def progress(engine: Engine) -> BuildProgress | None:
    """How far the background build of ``engine``'s columns has come; None when none is running.

    What the panel shows while it waits: until the build is done its answers come from SQL."""
    folder = cache_folder(engine)
    if folder not in _BUILDING:
        return None
    return _PROGRESS.get(folder, BuildProgress(0, 0))
