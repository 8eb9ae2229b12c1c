r"""Text as every export shows it: characters that hide or reorder what a reader sees are written as escapes.

The ledger keeps a memo, reference or name exactly as it was entered (append-only,
exact). A person reading an export must see what is there, though: each character of
:data:`~vosbench.core.hidden_text.HIDDEN` — a NUL (which also stops some CSV readers), the
other C0 and C1 control characters, the bidirectional controls such as U+202E RIGHT-TO-LEFT
OVERRIDE — is written as a backslash escape, ``\u202e``, in CSV, xlsx, HTML, PDF and
terminal tables alike.

Tab, line feed and carriage return stay: CSV quotes them, a cell keeps them as line
breaks, and text starting with them is already guarded as a formula start. Escaping comes
first, so the formula guard judges the text as it is shown. JSON needs none of this:
it writes every such character as ``\uXXXX`` itself.
"""

from __future__ import annotations

import re

from vosbench.core.hidden_text import HIDDEN

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes as the start of a formula or command."""


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet would take ``text`` as a formula or command: every writer then writes it as text."""
    return text.startswith(FORMULA_TRIGGERS)


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


def visible(text: str) -> str:
    """``text`` with every :data:`HIDDEN` character written as ``\\uXXXX``; other text unchanged."""
    return HIDDEN.sub(_escape, text) if HIDDEN.search(text) else text


def visible_value(value: object) -> object:
    """:func:`visible` for text; any other value (a number, a time, None) as it is.

    Text already made safe for HTML (``__html__``: a table cell pandas escaped, a table a
    template takes as it is) stays safe, so this also serves as a Styler formatter and a
    template's ``finalize``.
    """
    if not isinstance(value, str):
        return value
    shown = visible(value)
    return type(value)(shown) if shown is not value and hasattr(value, "__html__") else shown
