"""Reading ``e_payhistory`` in a child process: VOS3000 is read on one core, the ledger written on the other.

The child walks ``e_payhistory`` in id chunks after the saved mark (see
:func:`vosbench.sources.vos3000.source.payment_chunk`) and turns each chunk into ledger payments,
column by column (:func:`convert_chunk`), keeping each account's last ``customermoney``
from one chunk to the next for the sign derivation. The parent appends each chunk and
saves its mark.

Memory stays bounded by the chunk size whatever the table's size: the child is at most
one converted chunk ahead of the parent (the pipe between them blocks it). A failure in
the child reaches the parent as a :class:`~vosbench.sources.vos3000.source.SourceError`
carrying the child's message; the parent leaving early (a rejected batch, an
interruption) stops the child.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import sqlalchemy as sa

from vosbench.ledger.write_door import NewPayment, PaymentColumns, collector_paused
from vosbench.sources.vos3000 import source
from vosbench.sources.vos3000.convert import Converter, from_epoch_ms_many, missing, whole_numbers
from vosbench.sources.vos3000.mapping import Mapping
from vosbench.sources.vos3000.records import PayRecords, to_payments
from vosbench.sources.vos3000.state import Flag

STREAM = "e_payhistory"
_TIME = NewPayment._fields.index("occurred_at")  # the column that travels as epoch milliseconds


@dataclass
class Chunk:
    """One chunk of e_payhistory, converted: what the parent appends, and its mark.

    The payments travel as the columns of :class:`PaymentColumns`, the times as a numpy
    array of epoch milliseconds: lists of plain values and a flat array pickle and
    unpickle at a fraction of the cost of rows holding datetimes. :meth:`payments` turns
    the times into datetimes and hands the columns to the write door as they are.
    """

    first_id: int
    last_id: int
    rows_read: int
    accounts: set[str]  # every account the chunk's records name (payments or not)
    columns: list
    raised: list[Flag] = field(default_factory=list)

    @classmethod
    def of(cls, first_id: int, last_id: int, rows_read: int, accounts: set[str], payments: PaymentColumns,
           raised: list[Flag]) -> Chunk:
        columns: list[Sequence | np.ndarray] = list(payments.columns)
        columns[_TIME] = np.asarray(columns[_TIME], dtype=np.int64)
        return cls(first_id, last_id, rows_read, accounts, columns, raised)

    def payments(self) -> PaymentColumns:
        columns = list(self.columns)
        columns[_TIME] = from_epoch_ms_many(columns[_TIME])
        return PaymentColumns(columns)


def convert_chunk(columns: list[list[str]], before: dict[str, int], mapping: Mapping, converter: Converter,
                  stream: str = STREAM) -> tuple[PaymentColumns, list[Flag]]:
    """Ledger payments, times left as epoch milliseconds, for e_payhistory rows as
    :func:`source.payment_chunk` reads them (columns of text), with flags.

    ``before`` holds each account's balance after its previous record and is advanced.
    """
    ids, paymoney, times, customermoney, paytypes, types, accounts, memos, loginnames = columns

    def source_key(index: int) -> str:
        return f"e_payhistory.id={ids[index]}"

    if "" in accounts:  # a NULL: a payment no account can be found for
        raise ValueError(missing("customeraccount", source_key(accounts.index(""))))
    records = PayRecords((
        ids, accounts, converter.minor_texts(paymoney, field="paymoney", source_key=source_key),
        converter.minor_texts(customermoney, field="customermoney", source_key=source_key),
        whole_numbers(types, field="type", source_key=source_key),
        whole_numbers(paytypes, field="paytype", source_key=source_key),
        whole_numbers(times, field="time", source_key=source_key), loginnames, memos,
        list(map(int, ids))))
    raised: list[Flag] = []
    payments = to_payments(records, before, mapping, stream, raised)
    raised += [Flag(stream, item.source_key, "inexact_money", str(item)) for item in converter.take_inexact()]
    return payments, raised


def _read(url: sa.URL, mapping: Mapping, after: int, chunk_size: int, out: BinaryIO) -> None:
    """The child: pickle every converted chunk after ``after`` to ``out``, then None."""
    engine = sa.create_engine(url)
    converter, before = Converter(), dict[str, int]()
    size = max(1, chunk_size // 10)  # a small first chunk: the parent starts writing sooner
    with collector_paused(), engine.connect() as connection:  # a chunk makes ~1M objects, none cyclic
        while columns := source.payment_chunk(connection, after, size):
            size = chunk_size
            accounts = set(columns[source.PAYMENT_FIELDS.index("customeraccount")])
            unseen = sorted(accounts - before.keys())
            if after and unseen:  # resuming: the balances before the mark come from VOS3000
                for account, balance in source.balances_before(connection, unseen, after).items():
                    before[account] = converter.minor(balance, field="customermoney",
                                                      source_key=f"e_payhistory of {account}")
            payments, raised = convert_chunk(columns, before, mapping, converter)
            first, after = int(columns[0][0]), int(columns[0][-1])
            converted = Chunk.of(first, after, len(columns[0]), accounts, payments, raised)
            out.write(pickle.dumps(converted, pickle.HIGHEST_PROTOCOL))  # pickled whole: the parent never waits on it
            out.flush()
    engine.dispose()
    pickle.dump(None, out)
    out.flush()


def chunks(url: sa.URL, mapping: Mapping, after: int, chunk_size: int) -> Iterator[Chunk]:
    """The converted chunks of e_payhistory after id ``after``, read by a child process.

    The child is this module run by the same Python; its task (the URL with its password
    included) goes through its standard input, never its command line.
    """
    said = tempfile.TemporaryFile()  # a file, not a pipe: what the child says can never block it
    child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=said)
    # both are pipes (PIPE above); typeshed cannot tell that from the arguments
    assert child.stdin is not None and child.stdout is not None
    try:
        pickle.dump((url, mapping, after, chunk_size), child.stdin, pickle.HIGHEST_PROTOCOL)
        child.stdin.close()
        while True:
            try:
                item = pickle.load(child.stdout)
            except EOFError:
                child.wait()
                said.seek(0)
                words = said.read().decode("utf-8", "replace").strip() or f"exit code {child.returncode}"
                raise source.SourceError(f"reading e_payhistory failed; every chunk before it is in the ledger "
                                         f"with its mark, so the next run resumes there. The reader said:\n{words}") from None
            if item is None:
                return
            yield item
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        said.close()


if __name__ == "__main__":
    # by its package name, so that the parent unpickles vosbench.sources.vos3000.payreader.Chunk, not __main__.Chunk
    from vosbench.sources.vos3000 import payreader

    try:
        url, mapping, after, chunk_size = pickle.load(sys.stdin.buffer)
        payreader._read(url, mapping, after, chunk_size, out=sys.stdout.buffer)
    except Exception as error:  # the parent shows this line to the user
        sys.exit(f"{type(error).__name__}: {error}")
