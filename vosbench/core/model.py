"""The domain's vocabulary: transaction kinds, channels, methods, account kinds.

Each enum's value is the spelling used in CSV files, parameters and the store, so
the same word means the same thing everywhere.
"""

from __future__ import annotations

from enum import Enum
from typing import Self


class _Vocabulary(str, Enum):
    """A closed set of words; parsing an unknown word names the allowed ones."""

    @classmethod
    def parse(cls, word: str, *, field: str | None = None) -> Self:
        text = (word or "").strip().lower()
        member = cls._value2member_map_.get(text)  # a dict lookup: an import parses millions of words
        if member is not None:
            return member  # type: ignore[return-value]
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(member.value for member in cls)
            raise ValueError(
                f"{field or cls.__name__.lower()}: unknown value {word!r}; use one of: {allowed}"
            ) from None

    def __str__(self) -> str:
        return self.value


class Kind(_Vocabulary):
    """What a payment record is. Its sign rule is in :data:`SIGN_RULES`."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    ADJUSTMENT = "adjustment"
    BONUS = "bonus"
    COMMISSION = "commission"
    AUTO_RECHARGE = "auto_recharge"


class Channel(_Vocabulary):
    """Where the record was entered."""

    ADMIN = "admin"
    WEB = "web"
    IVR = "ivr"
    API = "api"
    AUTOMATIC = "automatic"
    IMPORT = "import"


class Method(_Vocabulary):
    """How the money moved."""

    CASH = "cash"
    BANK_WIRE = "bank_wire"
    CARD = "card"
    CRYPTO = "crypto"
    RECHARGE_CARD = "recharge_card"
    GATEWAY = "gateway"
    OTHER = "other"


class AccountKind(_Vocabulary):
    """Customer accounts hold traffic; agents and resellers sit above them and earn commission."""

    CUSTOMER = "customer"
    AGENT = "agent"
    RESELLER = "reseller"


SIGN_RULES: dict[Kind, int] = {
    Kind.DEPOSIT: +1,
    Kind.WITHDRAWAL: -1,
    Kind.ADJUSTMENT: 0,  # either sign, but a reason is required
    Kind.BONUS: +1,
    Kind.COMMISSION: +1,
    Kind.AUTO_RECHARGE: +1,
}
"""+1: the amount must raise the balance; -1: lower it; 0: either."""

COMMISSION_ACCOUNT_KINDS = frozenset({AccountKind.AGENT, AccountKind.RESELLER})
