"""Look-alike accounts: the wrong-account mistake.

Account names are not unique keys; an operator who searches by name can credit the
wrong one of two nearly identical names. A deposit is a finding when its memo or
reference (the remittance) names another account's number, or names a look-alike's
name and not the credited account's own: the money says whose it is. A deposit to an
account with a look-alike and no such evidence is not a finding — in the demo, as in
real customer bases, about a third of company names have a near-twin that differs by
a legal suffix, and listing all their deposits is noise.

Texts, names and numbers are compared as read (:func:`vosbench.controls.texts.as_read`, the fold the
duplicate check uses): a zero-width space inside ``C00014`` or a name, another letter case or look-alike
letters do not hide which account a memo names.

Two names are look-alikes when their normalized forms (case, punctuation, spaces,
legal suffixes and common spelling variants removed) are equal or at least
``name_similarity`` alike (difflib's ratio). The check never compares accounts with
one another: it starts from each deposit's text and asks a :class:`NameIndex` which
account names that text holds, then compares only those with the credited account's.
Its cost grows with the month's deposits and the words of their texts, not with the
square of the accounts — 50,000 accounts named like ``ACC-000123`` cost what 50 do.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import KeysView
from difflib import SequenceMatcher
from functools import lru_cache

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.controls.texts import as_read

_LEGAL = {"llc", "fze", "fzco", "ltd", "dmcc", "trading", "general", "co", "inc", "limited", "company", "the"}
_SPELLINGS = {"center": "centre", "nour": "noor", "mohamed": "mohammed", "yousef": "yusuf", "harbor": "harbour",
              "communication": "communications", "tell": "tel"}
_TOKEN = re.compile(r"[a-z0-9]+")
_ACCOUNT_WORD = re.compile(r"[A-Za-z0-9]+")
_WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def normalized(name: str) -> str:
    """A name reduced to what tells two businesses apart: 'Blue Wave Center LLC' → 'bluewavecentre'."""
    words = [_SPELLINGS.get(word, word) for word in _TOKEN.findall(name.lower().replace("&", " and "))]
    return "".join(word for word in words if word not in _LEGAL) or name.lower()


@lru_cache(maxsize=65536)
def alike(left: str, right: str, similarity: float) -> bool:
    """Whether two names are look-alikes: equal normalized forms, or forms at least ``similarity`` alike.

    difflib's cheap upper bounds are tried before the ratio; most pairs stop there.
    """
    left_key, right_key = normalized(left), normalized(right)
    if left_key == right_key:
        return True
    matcher = SequenceMatcher(None, right_key, left_key, autojunk=False)
    return (matcher.real_quick_ratio() >= similarity and matcher.quick_ratio() >= similarity
            and matcher.ratio() >= similarity)


def _mentions(text: str, name: str) -> bool:
    """``name`` appears in ``text`` as whole words, letters' case ignored.

    A plain search for each occurrence with its two neighbours checked: a regular
    expression per name would be compiled anew for every distinct name of a large ledger.
    """
    text, name = text.lower(), name.lower()
    start = text.find(name)
    while start >= 0:
        end = start + len(name)
        if (start == 0 or text[start - 1] not in _WORD_CHARACTERS) and (
                end == len(text) or text[end] not in _WORD_CHARACTERS):
            return True
        start = text.find(name, start + 1)
    return False


class NameIndex:
    """Which account names a text holds as whole words, found without scanning every name.

    Each distinct name is filed under its rarest word (the word fewest names share), so a
    text is checked only against the names whose rarest word it contains: a name every
    word of which is common to thousands is the only thing that makes a bucket large.
    Names without a letter or digit are checked against every text (there are few).
    """

    def __init__(self, accounts: pd.DataFrame):
        self.accounts_named: dict[str, list[str]] = defaultdict(list)  # name as read → accounts
        self.names: dict[str, str] = {}  # account → name as written
        self.read: dict[str, str] = {}  # account → name as read
        for account, name, read in zip(accounts["account"].tolist(), accounts["name"].tolist(),  # plain str: quicker
                                       as_read(accounts["name"]).tolist()):
            self.accounts_named[read].append(account)
            self.names[account] = name
            self.read[account] = read
        words = {name: set(_TOKEN.findall(name)) for name in self.accounts_named}
        frequency = Counter(word for name_words in words.values() for word in name_words)
        self.by_word: dict[str, list[str]] = defaultdict(list)
        self.wordless: list[str] = []
        for name, name_words in words.items():
            if name_words:
                self.by_word[min(name_words, key=lambda word: (frequency[word], word))].append(name)
            elif name.strip():  # an empty name names nothing
                self.wordless.append(name)

    def may_name_one(self, text: str, account_numbers: KeysView[str]) -> bool:
        """False when ``text`` holds no account number and no word any name is filed under: then it names no account.

        Two set lookups per word, so the month's deposits are sifted at once and only the few
        whose text could name an account go through :meth:`named_in` and the similarity test.
        """
        return bool(self.wordless) or not (account_numbers.isdisjoint(_ACCOUNT_WORD.findall(text))
                                           and self.by_word.keys().isdisjoint(_TOKEN.findall(text.lower())))

    def named_in(self, text: str) -> set[str]:
        """The accounts whose whole name ``text`` (read as :func:`as_read` reads it) holds."""
        lowered = text.lower()
        candidates = [name for word in set(_TOKEN.findall(lowered)) for name in self.by_word.get(word, ())]
        return {account for name in (*candidates, *self.wordless) if _mentions(lowered, name)
                for account in self.accounts_named[name]}


def _named_look_alikes(text: str, account: str, index: NameIndex, similarity: float) -> set[str]:
    """Look-alikes of ``account`` whose whole name the text holds; a name inside a longer named one does not count."""
    names = index.names
    named = {other for other in index.named_in(text)
             if other != account and alike(names[account], names[other], similarity)}
    return {a for a in named if not any(names[a] != names[b] and _mentions(names[b], names[a]) for b in named)}


def look_alike_accounts(data: MonthData) -> list[Finding]:
    """Deposits whose memo or reference names another account, or a look-alike's name instead of their own."""
    deposits = data.payments[(data.payments["kind"] == "deposit") & (data.payments["amount"] > 0)
                             & data.payments["reverses_id"].isna()]
    if deposits.empty:
        return []
    known = dict(zip(as_read(data.accounts["account"]).tolist(), data.accounts["account"].tolist()))  # read → number
    index = NameIndex(data.accounts)
    names = index.names
    similarity = float(data.settings.name_similarity)
    texts = as_read(deposits["memo"] + " " + deposits["reference"])
    chosen = [index.may_name_one(text, known.keys()) for text in texts.tolist()]
    deposits, texts = deposits[chosen], texts[chosen]
    found = []
    for row, text in zip(deposits.itertuples(), texts.tolist()):
        named = {known[word] for word in _ACCOUNT_WORD.findall(text) if word in known} - {row.account}
        if not _mentions(text, index.read[row.account]):
            named |= _named_look_alikes(text, row.account, index, similarity)
        if not named:
            continue
        others = ", ".join(f"{a} '{names[a]}'" + (" (look-alike name)" if alike(names[row.account], names[a],
                                                                                 similarity) else "")
                           for a in sorted(named))
        found.append(Finding(
            "look_alike_account", "high", data.month, (row.account, *named),
            f"deposit #{row.id} of {data.money_text(row.amount, row.currency)} was credited to {row.account} '{names[row.account]}' "
            f"but its memo names {others}: \"{row.memo}\"", (row.id,), row.operator, row.amount))
    return found
