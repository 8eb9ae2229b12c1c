"""The one base of every error a user can cause and fix.

Each failure a user can hit has its own class below :class:`VosbenchError`; its message
says what was wrong and how to fix it. The ``vosbench`` command turns any of them into
that one line on standard error and exit status 2; notebooks show the same message.
"""

from __future__ import annotations


class VosbenchError(Exception):
    """Bad input, a missing ledger, a refused record: the message names the input and the fix."""

    exit_code = 2  # the ``vosbench`` command's status for it: bad input
