"""Look-alike accounts: the wrong-account mistake.

Account names are not unique keys; an operator who searches by name can credit the
wrong one of two nearly identical names. Names are compared after normalization
(case, punctuation, spaces, legal suffixes and common spelling variants), then by
similarity within a block sharing the first letters. A deposit is a finding when its
memo or reference (the remittance) names another account's number, or names a
look-alike's name and not the credited account's own: the money says whose it is.
A deposit to an account with a look-alike and no such evidence is not a finding —
in the demo, as in real customer bases, about a third of company names have a
near-twin that differs by a legal suffix, and listing all their deposits is noise.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.money import format_money

_LEGAL = {"llc", "fze", "fzco", "ltd", "dmcc", "trading", "general", "co", "inc", "limited", "company", "the"}
_SPELLINGS = {"center": "centre", "nour": "noor", "mohamed": "mohammed", "yousef": "yusuf", "harbor": "harbour",
              "communication": "communications", "tell": "tel"}
_TOKEN = re.compile(r"[a-z0-9]+")
_ACCOUNT_WORD = re.compile(r"[A-Za-z0-9]+")


def normalized(name: str) -> str:
    """A name reduced to what tells two businesses apart: 'Blue Wave Center LLC' → 'bluewavecentre'."""
    words = [_SPELLINGS.get(word, word) for word in _TOKEN.findall(name.lower().replace("&", " and "))]
    return "".join(word for word in words if word not in _LEGAL) or name.lower()


def look_alike_pairs(accounts: pd.DataFrame, similarity: float) -> dict[str, set[str]]:
    """account → the other accounts whose normalized name is at least ``similarity`` alike.

    Equal keys pair at once; other pairs are compared only within a block sharing the
    key's first four letters, with difflib's cheap upper bounds tried before the ratio.
    """
    keys = pd.DataFrame({"account": accounts["account"], "key": accounts["name"].map(normalized)})
    alike: dict[str, set[str]] = {}

    def pair(left: str, right: str) -> None:
        alike.setdefault(left, set()).add(right)
        alike.setdefault(right, set()).add(left)

    for _, same in keys.groupby("key"):
        members = list(same["account"])
        for i, left in enumerate(members):
            for right in members[i + 1:]:
                pair(left, right)
    distinct = keys.drop_duplicates("key")
    for _, block in distinct.groupby(distinct["key"].str[:4]):
        rows = list(block.itertuples(index=False))
        for i, left in enumerate(rows):
            matcher = SequenceMatcher(None, b=left.key, autojunk=False)  # b is the side difflib indexes
            for right in rows[i + 1:]:
                matcher.set_seq1(right.key)
                if (matcher.real_quick_ratio() >= similarity and matcher.quick_ratio() >= similarity
                        and matcher.ratio() >= similarity):
                    for a in keys.loc[keys["key"] == left.key, "account"]:
                        for b in keys.loc[keys["key"] == right.key, "account"]:
                            pair(a, b)
    return alike


def _mentions(text: str, name: str) -> bool:
    """``name`` appears in ``text`` as whole words (the substring test first: it is what usually fails)."""
    if name.lower() not in text.lower():
        return False
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def _named_look_alikes(text: str, candidates, names: dict[str, str]) -> set[str]:
    """Look-alikes whose whole name the text holds; a name inside a longer named one does not count."""
    named = {a for a in candidates if _mentions(text, names[a])}
    return {a for a in named if not any(names[a] != names[b] and _mentions(names[b], names[a]) for b in named)}


def look_alike_accounts(data: MonthData) -> list[Finding]:
    """Deposits whose memo or reference names another account, or a look-alike's name instead of their own."""
    deposits = data.payments[(data.payments["kind"] == "deposit") & (data.payments["amount"] > 0)
                             & data.payments["reverses_id"].isna()]
    known = set(data.accounts["account"])
    names = dict(zip(data.accounts["account"], data.accounts["name"]))
    alike = look_alike_pairs(data.accounts, float(data.settings.name_similarity))
    found = []
    for row in deposits.itertuples():
        text = f"{row.memo} {row.reference}"
        named = (set(_ACCOUNT_WORD.findall(text)) & known) - {row.account}  # not known - {…}: a copy per deposit
        if not _mentions(text, row.name):
            named |= _named_look_alikes(text, alike.get(row.account, ()), names)
        if not named:
            continue
        others = ", ".join(f"{a} '{names[a]}'" + (" (look-alike name)" if a in alike.get(row.account, ()) else "")
                           for a in sorted(named))
        found.append(Finding(
            "look_alike_account", "high", data.month, (row.account, *named),
            f"deposit #{row.id} of {format_money(row.amount)} was credited to {row.account} '{names[row.account]}' "
            f"but its memo names {others}: \"{row.memo}\"", (row.id,), row.operator, row.amount))
    return found
