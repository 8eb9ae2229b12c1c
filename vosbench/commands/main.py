"""The ``vosbench`` command: parse the command line, run one command, turn its outcome into an exit code.

Exit codes: 0 done; 1 the ledger failed a check (``verify``), a control failed
(``controls --fail-on``) or a report notebook failed; 2 bad input — any
:class:`~vosbench.core.errors.VosbenchError`, printed as one line naming the input and
the fix. ``--db URL`` may come before the command (``vosbench --db URL query``) or anywhere after it,
for every command and subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from vosbench import __version__
from vosbench.commands import options
from vosbench.commands.options import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK
from vosbench.core.errors import VosbenchError
from vosbench.core.periods import FIRST_DAY, LAST_DAY

COMMAND_GROUPS = ("ledger", "integrity", "reports", "views", "finance", "controls", "statements", "vos3000", "server")
"""The modules of :mod:`vosbench.commands` that register commands with ``register(add)``; help lists them in this order."""

GROUP_OF = {
    "demo": "ledger", "demo-key": "ledger", "import": "ledger", "info": "ledger",
    "verify": "integrity", "close": "integrity", "reopen": "integrity", "closes": "integrity", "archive": "integrity",
    "keygen": "integrity", "account-history": "integrity", "proof": "integrity", "evidence": "integrity",
    "reconcile": "reports", "query": "reports", "audit": "reports", "notebooks": "reports",
    "views": "views",
    "export": "finance", "statement": "finance", "summary": "finance", "dashboard": "finance",
    "controls": "controls", "approvals": "controls", "thresholds": "controls", "findings": "controls",
    "record": "controls", "reverse": "controls",
    "statements": "statements", "match": "statements", "decide": "statements", "find-payment": "statements",
    "sync": "vos3000",
    "server": "server", "copy": "server", "operators": "server",
}
"""Which of :data:`COMMAND_GROUPS` registers each command: a command line imports and builds only its group
(importing every group and building every command's options cost each command ~30 ms of its start-up)."""


def command_named(argv: list[str]) -> str | None:
    """The command word of ``argv``: its first word, after any ``--db URL`` before it.

    None when another option comes first (``vosbench --help info`` prints the help of every command) or
    there is no command: the whole parser is built and argparse says what it says.
    """
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word
        if not (word.startswith("--d") and "--db".startswith(word.partition("=")[0])):  # --db URL, --db=URL, --d URL
            return None
        if "=" not in word:
            next(words, None)
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with ``command`` one of :data:`GROUP_OF`, only that command's group is
    imported and built; otherwise (help, a mistyped command) every command, so that help and the error list them all.
    """
    parser = argparse.ArgumentParser(prog="vosbench", parents=[options.global_options()],
                                     description="vosbench: the payment ledger workbench of a VOS3000 operator")
    parser.add_argument("--version", action="version", version=f"vosbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    shared = options.shared_options()

    def add(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[shared], help=help_text, description=help_text)
        if handler is not None:
            sub.set_defaults(handler=handler)
        return sub

    groups = (GROUP_OF[command],) if command in GROUP_OF else COMMAND_GROUPS
    for group in groups:
        importlib.import_module(f"vosbench.commands.{group}").register(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(command_named(argv)).parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:  # Ctrl-C: a write under way is rolled back with its transaction
        print(f"vosbench {args.command}: interrupted (Ctrl-C); the ledger keeps only what the command had finished "
              "(each file of an import is kept whole or not at all); run it again to complete it", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return EXIT_OK
    except VosbenchError as error:  # it may quote a hostile file name or text: shown with its hidden characters escaped
        from vosbench.outputs.visible import visible

        print(f"vosbench {args.command}: {_short(visible(str(error)))}", file=sys.stderr)
        return error.exit_code
    except OverflowError as error:  # a date or number beyond what Python or the database holds: the last defence
        print(f"vosbench {args.command}: a value is out of range ({error}); give days from {FIRST_DAY} to "
              f"{LAST_DAY} and ids from 1 to {options.MAX_ID}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:  # a file it was told to read or write that the system refuses (no such folder, no permission)
        fix = ("check that the path exists and that you may read or write it" if error.filename
               else "check the file or connection the command uses and try again")
        where = f"{error.filename}: " if error.filename else ""
        print(f"vosbench {args.command}: {where}{error.strerror or error}; {fix}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UnicodeError:  # an argument or name holding bytes the system's encoding cannot carry
        print(f"vosbench {args.command}: an argument or a file name holds bytes that are not text in this system's "
              f"encoding ({sys.getfilesystemencoding()}); give it as text", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as error:  # the standard library's parsers (dates, numbers) name the value they refused
        print(f"vosbench {args.command}: {_short(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a database that refuses (a damaged file, a lost server): one line, no traceback
        from vosbench.ledger import database

        said = database.explained(error)
        if said is None:  # not the database's: a defect, shown as one
            raise
        print(f"vosbench {args.command}: {_short(said)}", file=sys.stderr)
        return EXIT_BAD_INPUT


_LONGEST = 600
"""Characters of a message's line shown whole: a 100 kB argument echoed back would bury the line that names it."""


def _short(message: str) -> str:
    """``message`` with the middle of each line longer than :data:`_LONGEST` characters left out (a list of rejected
    rows keeps its lines)."""
    return "\n".join(line if len(line) <= _LONGEST else
                     f"{line[:400]} … ({len(line) - 550:,} characters left out) … {line[-150:]}"
                     for line in message.split("\n"))


if __name__ == "__main__":
    sys.exit(main())
