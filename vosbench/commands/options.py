"""What every ``vosbench`` command shares: the ledger option, output formats, exit codes, opening the ledger.

A command module exposes ``register(add)``; ``add(name, handler, help)`` returns its
argparse subparser with the shared options already on it. A handler takes the parsed
arguments, returns an exit code, and raises a :class:`~vosbench.core.errors.VosbenchError`
for input a user can fix (the entry point prints its one line and exits 2).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vosbench.core import config, periods
from vosbench.core.errors import VosbenchError

if TYPE_CHECKING:
    from vosbench.ledger.handle import Ledger

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
"""0 done; 1 the ledger failed a check or a report failed; 2 bad input (the message names it and the fix)."""
EXIT_NO_DATA = 3
"""A report of a period that holds no records: written, but there was nothing to report."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (128 + SIGINT, as shells report it)."""
MAX_ID = 2**63 - 1
"""The largest id a ledger's id columns (64-bit signed integers) hold."""


class UsageError(VosbenchError):
    """Options that do not go together, or a value argparse cannot judge alone."""


def shared_options() -> argparse.ArgumentParser:
    """The options every command and subcommand accepts, before or after its positional arguments.

    Their default is left out of the namespace (SUPPRESS) so that a nested subcommand's
    default never overwrites a value given at an outer level; read them with :func:`db_url`.
    """
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help=f"ledger URL (default: ${config.ENV_DB}, else the embedded SQLite ledger)")
    return parent


def add_format(parser: argparse.ArgumentParser, *formats: str, default: str = "table") -> None:
    """``--format``, one of ``formats`` (default: table, csv, json)."""
    parser.add_argument("--format", choices=formats or ("table", "csv", "json"), default=default)


def global_options() -> argparse.ArgumentParser:
    """The same options placed before the command (``vosbench --db URL query ...``), kept apart so that
    :func:`db_url` sees both places and refuses two different values instead of dropping one."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", dest="db_before_command", metavar="URL", default=argparse.SUPPRESS,
                        help=f"ledger URL (default: ${config.ENV_DB}, else the embedded SQLite ledger); "
                             "may also follow the command")
    return parent


def db_url(args: argparse.Namespace) -> str | None:
    """The ``--db`` given anywhere on the command line, or None for the environment's/default ledger.

    A blank one (an unset variable in a script) is refused: falling back to another ledger would
    run the command on the wrong money.
    """
    before, after = getattr(args, "db_before_command", None), getattr(args, "db", None)
    if any(given is not None and not given.strip() for given in (before, after)):
        raise UsageError("--db is empty; give the ledger's URL (or leave --db out for $VOSBENCH_DB or the "
                         "embedded ledger)")
    if before is not None and after is not None and before != after:
        raise UsageError(f"--db is given twice, {config.mask_url(before)} before the command and "
                         f"{config.mask_url(after)} after it; give one ledger")
    return after if after is not None else before


def open_ledger(args: argparse.Namespace, *, create: bool = False, timezone: str = "UTC") -> Ledger:
    """The ledger the command works on (``--db``, else ``VOSBENCH_DB``, else the embedded default)."""
    from vosbench.ledger.handle import Ledger

    return Ledger.open(db_url(args), create=create, timezone=timezone)


def out_folder(text: str) -> Path:
    """An ``--out DIR`` value: a folder, made when missing; an existing file is refused, never written into."""
    path = Path(_given(text, "a folder for the output", "the default folder"))
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; give a folder (it is made if missing)")
    return path


def out_file(text: str) -> Path:
    """An ``--out FILE`` value: a file to write or replace; a folder or a device (``/dev/null``) is refused."""
    path = Path(_given(text, "a file to write", "the default file"))
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name (in it, e.g. {path / 'out'}, or elsewhere)")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a regular file (a device or pipe); give a file to write")
    return path


def _given(text: str, example: str, left_out: str) -> str:
    """An option's value stripped; a blank one is refused with ``example`` and what leaving it out means."""
    value = text.strip()
    if not value:
        raise argparse.ArgumentTypeError(f"empty; give {example} (leave the option out for {left_out})")
    return value


def account_number(text: str) -> str:
    """An ``--account``/``--subtree`` value: the number stripped; a blank one is refused, never read as "every account"."""
    return _given(text, "an account number as listed in accounts.csv", "every account")


def filter_word(text: str) -> str:
    """A ``--kind``/``--operator``/``--channel``/``--method``/``--currency`` value stripped; a blank one is refused,
    never dropped without a word (the filter would then select every kind, operator, …)."""
    return _given(text, "a value", "every value")


def amount_bound(text: str) -> str:
    """A ``--min-amount``/``--max-amount`` value as decimal text; a blank one is refused, never read as "no bound"
    (by the filter's own rule, which papermill parameters, saved views and view links follow too)."""
    from vosbench.analysis import filters

    try:
        return filters.amount_bound(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def key_value(text: str) -> tuple[str, str]:
    """``-p key=value`` as a pair; a malformed one is refused with the form to use."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"-p {text!r}: write parameters as key=value, e.g. -p month=2026-09")
    return key.strip(), value


def whole_number(text: str) -> int | None:
    """``text`` as a whole number written in ASCII digits, None otherwise: int() also reads Arabic-Indic or
    full-width digits and signs, which no listing prints and no option means."""
    digits = text.strip()
    return int(digits) if digits.isascii() and digits.isdigit() else None


def record_id(text: str) -> int:
    """A payment, statement-line or request id: a whole number from 1 to :data:`MAX_ID` (what an id column holds)."""
    number = whole_number(text) or 0
    if not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id; give a whole number from 1 to {MAX_ID} "
                                         "as vosbench lists it")
    return number


def id_list(text: str) -> str:
    """``--lines``/``--payments``: comma-separated ids, each a :func:`record_id`, as the text ``12,13``."""
    return ",".join(str(record_id(part)) for part in text.split(",") if part.strip())


def day(text: str) -> date:
    """A ``YYYY-MM-DD`` option within the days vosbench works with (:func:`~vosbench.core.periods.check_day`)."""
    try:
        return periods.parse_day(text, "day")
    except periods.PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def instant(text: str) -> datetime:
    """An ISO-8601 time (``Z`` for UTC) on a day vosbench works with; its offset is checked where it is stored."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time; give ISO-8601 with an offset, "
                                         "e.g. 2026-10-05T14:30:00+04:00") from None
    try:
        periods.check_day(moment.date(), "time")
    except periods.PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return moment
