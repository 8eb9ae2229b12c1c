"""The characters that hide or reorder text on a screen, named once for every place that must show them.

A NUL, the other C0 and C1 control characters, and the bidirectional controls — U+202A..U+202E
(U+202E RIGHT-TO-LEFT OVERRIDE before ``txt.exe`` makes it read ``exe.txt``), U+2066..U+2069,
U+200E/U+200F and U+061C — change what a reader sees without being seen. Exports write each as
an escape (:mod:`vosbench.outputs.visible`); a proposed command spells each out in its shell
quoting (:mod:`vosbench.analysis.matching.propose`). Tab, line feed and carriage return are
not among them: a cell shows them as the breaks they are.

A text that shows nothing at all — spaces of any kind, format characters such as U+200B or
U+FEFF, controls — is :func:`blank`: a reason made of them explains nothing.
"""

from __future__ import annotations

import re
import unicodedata

HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""The hidden characters as one character class, so that a text is searched once."""


_UNSEEN = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf"))
"""Unicode categories that draw nothing: spaces and separators, controls, format characters."""


def blank(text: str | None) -> bool:
    """True when ``text`` shows no character: none at all, or only spaces, separators, controls and format
    characters (U+00A0, U+3000, U+200B, U+2060, U+FEFF, ...). Required text such as a reason is refused so."""
    return not text or all(unicodedata.category(character) in _UNSEEN for character in text)
