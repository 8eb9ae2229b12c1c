"""A statement file's lines as batches of rows to append, read in a second process when the file is large.

Reading a 100k-line OFX or CAMT file costs as much as appending its lines to the ledger
(the row chain hashes every line). A large file is therefore read by a forked process
that sends its lines, keyed and made into rows, a few thousand at a time, while the
importing process checks and appends the batch before: the two overlap on two cores.
Small files, and systems that cannot fork, are read in the importing process: a second
process costs more than it saves there.

The reader's record (:class:`ParsedStatement`: format, counts, warnings, rejections) is
complete once every batch has been taken; an error of the file (damaged XML, a truncated
OFX) is raised where the batches are taken, in either case, and the reading process is
ended whenever the import ends, however it ends.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import signal
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine, with_keys
from vosbench.sources.bankfiles.profiles import FeeSchedule

AHEAD_FROM_BYTES = 4 << 20
"""Files from this size are read in a second process (a 100k-transaction OFX is 18 MiB, a CAMT 40)."""
BATCH_LINES = 5_000
"""Lines per batch: few enough to keep memory flat, enough to keep the per-batch costs small."""

Opener = Callable[[], tuple[ParsedStatement, Iterator[StatementLine], FeeSchedule]]
Batch = tuple[list[int], list[tuple]]
"""The file's line numbers (for messages) and, in the same order, the rows the lines become."""


class Reading:
    """A statement being read: its record, fee schedule and batches; ``rejected`` once the file has a rejected line."""

    parsed: ParsedStatement
    fee: FeeSchedule

    def batches(self) -> Iterator[Batch]:
        raise NotImplementedError

    @property
    def rejected(self) -> bool:
        return bool(self.parsed.rejections)


class _HereReading(Reading):
    """Read in this process, a batch at a time as it is asked for."""

    def __init__(self, open_lines: Opener, row: Callable[[StatementLine], tuple]):
        self.parsed, self._lines, self.fee = open_lines()
        self._row = row

    def batches(self) -> Iterator[Batch]:
        keyed, row = with_keys(self._lines), self._row
        while chunk := list(itertools.islice(keyed, BATCH_LINES)):
            yield [line.line for line in chunk], [row(line) for line in chunk]


class _AheadReading(Reading):
    """Read by a forked process, which runs ahead of the batches taken by a batch."""

    def __init__(self, receive: Connection):
        self._receive = receive
        self._rejected = False
        _, (self.parsed, self.fee) = self._message()

    def _message(self) -> tuple[str, Any]:
        try:
            kind, value = self._receive.recv()
        except EOFError:  # the reading process was killed (out of memory, a signal) before it said why
            raise StatementFileError("the process reading the statement file ended before the file was read; "
                                     "import it again") from None
        if kind == "error":
            raise value
        return kind, value

    def batches(self) -> Iterator[Batch]:
        while True:
            kind, value = self._message()
            if kind == "done":
                self.parsed = value
                return
            numbers, rows, self._rejected = value
            yield numbers, rows

    @property
    def rejected(self) -> bool:
        return self._rejected or bool(self.parsed.rejections)


def _read_ahead(send: Connection, open_lines: Opener, row: Callable[[StatementLine], tuple]) -> None:
    """The reading process: the record, each batch with whether a line was rejected so far, the final record."""
    # Ctrl-C reaches the whole process group: the importing process answers it and ends this one
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        reading = _HereReading(open_lines, row)
        send.send(("opened", (reading.parsed, reading.fee)))
        for numbers, rows in reading.batches():
            send.send(("batch", (numbers, rows, reading.rejected)))
        send.send(("done", reading.parsed))
    except Exception as error:  # every error goes to the importing process, which reports it as its own
        try:
            send.send(("error", error))
        except Exception:  # an exception that cannot be pickled: its text is enough
            send.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))
    finally:
        send.close()


@contextlib.contextmanager
def reading(open_lines: Opener, row: Callable[[StatementLine], tuple], *, size: int) -> Iterator[Reading]:
    """The statement ``open_lines`` opens, its lines made into rows by ``row``; read ahead when ``size`` is large."""
    if size < AHEAD_FROM_BYTES or "fork" not in multiprocessing.get_all_start_methods():
        yield _HereReading(open_lines, row)
        return
    context = multiprocessing.get_context("fork")  # the reader and its arguments are the importer's, not pickled
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_read_ahead, args=(send, open_lines, row), name="vosbench statement reader",
                              daemon=True)
    process.start()
    send.close()
    try:
        yield _AheadReading(receive)
    finally:
        receive.close()
        if process.is_alive():  # the import ended before the file did (a rejected file, a database error)
            process.terminate()
        process.join()
