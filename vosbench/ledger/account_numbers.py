"""What an account number may be: visible characters, and never a look-alike of another account's.

Money is posted to an account by its number, and a person reads that number in a
statement, a report or a spreadsheet. A number holding an invisible character (a
zero-width space, a control character) or a space, or starting like a spreadsheet formula, reads
as another number or runs as a formula; one that differs from an existing account only in letter
case or in letters of another script that look the same (Cyrillic ``С`` for Latin ``C``) is
a second account every reader takes for the first. Both are refused when the account is
opened, so deposits can never be posted to a look-alike. The audit compares references the same
way (:mod:`vosbench.controls.texts`): two that read alike are one.
"""

from __future__ import annotations

import unicodedata

_LOOK_ALIKES = str.maketrans({
    # Cyrillic and Greek letters drawn like Latin ones (upper and lower case), as a reader sees them
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P",
    "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "а": "a", "с": "c", "е": "e", "і": "i", "ј": "j", "о": "o", "р": "p",
    "ѕ": "s", "х": "x", "у": "y", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v",
})
_FORMULA_STARTS = ("=", "+", "-", "@")


def problem(number: str) -> str | None:
    """Why ``number`` cannot be an account number, or None when it can."""
    for character in number:
        category = unicodedata.category(character)
        if category[0] in "CZ":  # control, format (zero-width), unassigned, spaces and line breaks
            return (f"account number {number!r} holds an invisible or space character "
                    f"(U+{ord(character):04X} {unicodedata.name(character, 'unnamed')}); write it without")
    if number.startswith(_FORMULA_STARTS):
        return f"account number {number!r} starts with {number[0]!r}, which a spreadsheet runs as a formula"
    return None


def folded(text: str) -> str:
    """``text`` (an account number, a reference) as a reader takes it: compatibility forms, invisible format
    characters (zero-width spaces and joiners, direction marks: Unicode category Cf), letter case and
    look-alike letters folded away."""
    shown = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return shown.translate(_LOOK_ALIKES).casefold()
