"""Payment records as VOS3000 would hold them: amounts, channels, methods, references, memos.

A :class:`Draft` is a record while its month is being simulated: its balance after is
filled in when the account's day is settled, its source key when the month is sorted.
:class:`RecordMaker` knows how each way of paying looks (a bank wire has a bank
reference, a crypto payment a transaction hash, an IVR top-up a recharge-card serial);
:func:`top_ups` turns a customer's habit into the day's deposits.
"""

from __future__ import annotations

import itertools
import random

from vosbench.core.model import Channel, Kind, Method
from vosbench.core.money import UNIT
from vosbench.sources.demo import operators
from vosbench.sources.demo.hierarchy import Customer
from vosbench.sources.demo.timeline import DemoMonth

GATEWAY_LIMIT = 5_000 * UNIT  # per card payment; bigger top-ups go by wire
CASH_LIMIT = 5_000 * UNIT
CRYPTO_LIMIT = 9_500 * UNIT
CARD_DENOMINATIONS = tuple(d * UNIT for d in (5, 10, 20, 50, 100))
MINIMUM = {"wire": 100 * UNIT, "cash": 20 * UNIT, "gateway": 5 * UNIT, "crypto": 50 * UNIT, "card": 5 * UNIT}
"""Smallest top-up each way takes (the portal's minimum, what a wire is worth its bank charges)."""
PROMOTIONS = {3: "SPRING", 7: "SUMMER", 11: "BLACKFRIDAY"}
"""Calendar months with a 3% bonus on online top-ups of 100.00 or more."""
PROMO_MINIMUM = 100 * UNIT


class Draft:
    """One payment record being simulated (amounts in minor units, ``seconds`` into a local day)."""

    __slots__ = ("day", "seconds", "seq", "account", "kind", "amount", "operator", "channel", "method",
                 "reference", "memo", "reason", "approved_by", "applied", "original", "tag",
                 "balance_after", "source_key")

    def __init__(self, seq: int, day: int, seconds: int, account: str, kind: Kind, amount: int,
                 operator: str, channel: Channel, method: Method, reference: str, memo: str,
                 reason: str = "", approved_by: str = "", original: Draft | None = None):
        self.seq, self.day, self.seconds, self.account = seq, day, seconds, account
        self.kind, self.amount, self.operator, self.channel, self.method = kind, amount, operator, channel, method
        self.reference, self.memo, self.reason, self.approved_by = reference, memo, reason, approved_by
        self.original = original  # the record this one reverses
        self.applied = True  # False: VOS3000 kept the record but its balance did not move
        self.tag = ""  # answer-key id of a planted anomaly
        self.balance_after = 0
        self.source_key = ""


def nice(amount: int) -> int:
    """``amount`` rounded to what a person pays: whole dollars in steps that grow with size."""
    dollars = max(1, amount // UNIT)
    step = next((step for limit, step in ((20, 1), (100, 5), (500, 10), (2_000, 50), (10_000, 100))
                 if dollars < limit), 500)
    return max(step, (dollars + step // 2) // step * step) * UNIT


class RecordMaker:
    """Builds records with plausible references; numbering is per build so builds repeat exactly."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._seq = itertools.count(1)

    def make(self, day: int, seconds: int, account: str, kind: Kind, amount: int, operator: str,
             channel: Channel, method: Method, reference: str, memo: str, **extra) -> Draft:
        return Draft(next(self._seq), day, seconds, account, kind, amount, operator, channel, method,
                     reference, memo, **extra)

    def bank_wire(self, month: DemoMonth, day: int, account: str, name: str, amount: int, operator: str,
                  seconds: int, *, imported: bool = False, memo: str = "", reference: str = "") -> Draft:
        """A wire entered by hand (or from the bank statement import); large ones are approved."""
        approved = operators.approver_for(operator, self.rng) if amount >= operators.LARGE_DEPOSIT else ""
        return self.make(day, seconds, account, Kind.DEPOSIT, amount, operator,
                         Channel.IMPORT if imported else Channel.ADMIN, Method.BANK_WIRE,
                         reference or self.bank_reference(month, day), memo or f"Wire from {name}, ref. {account}",
                         approved_by=approved)

    def bank_reference(self, month: DemoMonth, day: int) -> str:
        # A multiplicative permutation of the sequence: unique per day, but not visibly sequential.
        when = month.days[day]
        return f"FT{when:%y}{when.timetuple().tm_yday:03d}{self.rng.randrange(10)}{next(self._seq) * 7919 % 10**6:06d}"

    def cash(self, month: DemoMonth, day: int, account: str, amount: int, operator: str, seconds: int) -> Draft:
        approved = operators.approver_for(operator, self.rng) if amount >= operators.LARGE_DEPOSIT else ""
        seq = next(self._seq)
        return self.make(day, seconds, account, Kind.DEPOSIT, amount, operator, Channel.ADMIN, Method.CASH,
                         f"RCPT-{month.label.replace('-', '')}-{seq:07d}", "Cash paid at the Dubai office",
                         approved_by=approved)

    def gateway(self, day: int, account: str, amount: int) -> Draft:
        return self.make(day, self.online_second(), account, Kind.DEPOSIT, amount, operators.WEB_PORTAL,
                         Channel.WEB, Method.GATEWAY, f"ch_{self.rng.getrandbits(96):024x}",
                         "Card payment via the customer portal")

    def crypto(self, day: int, account: str, amount: int, *, net_of_fee: bool = True) -> Draft:
        """A stablecoin payment; usually the amount arrives net of a network fee of up to 2.99."""
        amount -= self.rng.randrange(300) * 100 if net_of_fee else 0
        network = self.rng.choice(("USDT-TRC20", "USDT-ERC20"))
        tx_hash = f"{self.rng.getrandbits(256):064x}"
        return self.make(day, self.online_second(), account, Kind.DEPOSIT, amount, operators.CRYPTO_API,
                         Channel.API, Method.CRYPTO, tx_hash if network.endswith("TRC20") else "0x" + tx_hash,
                         f"{network} payment confirmed by the crypto gateway")

    def recharge_card(self, day: int, account: str, amount: int) -> Draft:
        serial = f"RC{self.rng.randrange(10**11, 10**12)}"
        return self.make(day, self.online_second(), account, Kind.DEPOSIT, amount, operators.IVR, Channel.IVR,
                         Method.RECHARGE_CARD, serial, f"IVR recharge card {amount // UNIT} USD")

    def auto_recharge(self, month: DemoMonth, day: int, account: str, amount: int, nth: int) -> Draft:
        seconds = (60 + 90 * nth) % 86_000 + self.rng.randrange(60)  # just after the night's deduction
        return self.make(day, seconds, account, Kind.AUTO_RECHARGE, amount,
                         operators.SYSTEM, Channel.AUTOMATIC, Method.CARD,
                         f"AR-{account}-{month.days[day]:%Y%m%d}-{nth + 1}",
                         "Auto-recharge: balance below the threshold, stored card charged")

    def bonus(self, deposit: Draft, amount: int, campaign: str, memo: str) -> Draft:
        """A promotional credit granted by the billing engine seconds after the deposit it rewards."""
        return self.make(deposit.day, deposit.seconds + 5, deposit.account, Kind.BONUS, amount,
                         operators.SYSTEM, Channel.AUTOMATIC, Method.OTHER, f"{campaign}-{next(self._seq):07d}",
                         f"{memo} (top-up {deposit.reference[:16]})")

    def commission(self, month: DemoMonth, account: str, amount: int, period: str, memo: str) -> Draft:
        return self.make(0, 2 * operators.HOUR + self.rng.randrange(600), account, Kind.COMMISSION, amount,
                         operators.SYSTEM, Channel.AUTOMATIC, Method.OTHER, f"COMM-{period}-{account}", memo)

    def withdrawal(self, day: int, account: str, amount: int, operator: str, seconds: int,
                   reference: str, memo: str) -> Draft:
        """Money paid out by wire; a large one is counter-signed by a second supervisor."""
        approved = operators.second_supervisor(operator) if amount >= operators.LARGE_WITHDRAWAL else ""
        return self.make(day, seconds, account, Kind.WITHDRAWAL, -amount, operator, Channel.ADMIN,
                         Method.BANK_WIRE, reference, memo, approved_by=approved)

    def adjustment(self, day: int, account: str, amount: int, operator: str, seconds: int,
                   reason: str, memo: str = "") -> Draft:
        return self.make(day, seconds, account, Kind.ADJUSTMENT, amount, operator, Channel.ADMIN, Method.OTHER,
                         f"ADJ-{next(self._seq):07d}", memo, reason=reason)

    def reversal(self, original: Draft, day: int, operator: str, seconds: int, reason: str) -> Draft:
        return self.make(day, seconds, original.account, original.kind, -original.amount, operator,
                         Channel.ADMIN, original.method, original.reference,
                         f"Reversal of {original.kind.value} {original.reference}", reason=reason, original=original)

    def online_second(self) -> int:
        """A moment of the local day, mostly between 08:00 and 23:00 as people pay."""
        if self.rng.random() < 0.8:
            return self.rng.randrange(8 * operators.HOUR, 23 * operators.HOUR)
        return self.rng.randrange(60, 86_340)


def top_ups(maker: RecordMaker, month: DemoMonth, day: int, customer: Customer,
            amounts: list[int], *, exact: bool = False) -> list[Draft]:
    """The customer's deposits of ``amounts`` today in their habitual way, plus any promotion bonus.

    Each way's :data:`MINIMUM` applies unless ``exact`` (benchmark volumes). Returns [] when
    the way needs an operator and nobody is on duty: the customer pays on a later day instead.
    """
    rng = maker.rng
    drafts: list[Draft] = []
    for wanted in amounts:
        way = _way(customer.habit, wanted, rng)
        amount = wanted if exact else max(wanted, MINIMUM[way])
        if way in ("wire", "cash"):
            slot = operators.manual_slot(rng, month, day)
            if slot is None:
                return []
            if way == "cash":
                drafts.append(maker.cash(month, day, customer.account, amount, *slot))
            else:
                fee = 0 if exact else rng.choice((0, 0, 0, 150_000, 200_000, 125_000))  # correspondent bank
                drafts.append(maker.bank_wire(month, day, customer.account, customer.name, amount - fee, *slot,
                                              imported=rng.random() < 0.3))
        elif way == "card":
            card = max([d for d in CARD_DENOMINATIONS if d <= amount] or [CARD_DENOMINATIONS[0]])
            drafts.append(maker.recharge_card(day, customer.account, card))
        elif way == "crypto":
            drafts.append(maker.crypto(day, customer.account, amount, net_of_fee=not exact))
        else:
            drafts.append(maker.gateway(day, customer.account, amount))
    code = PROMOTIONS.get(month.number)
    if code:
        campaign = f"{code}{month.days[0]:%y}"
        drafts += [maker.bonus(d, d.amount * 3 // 100, campaign, f"Promotion {campaign}: 3% bonus on an online top-up")
                   for d in list(drafts) if d.channel in (Channel.WEB, Channel.API) and d.amount >= PROMO_MINIMUM]
    return drafts


def _way(habit: str, amount: int, rng: random.Random) -> str:
    """How a top-up of ``amount`` is paid: wire, cash, gateway, crypto or card (IVR recharge card)."""
    crypto_sized = MINIMUM["crypto"] <= amount <= CRYPTO_LIMIT
    if habit == "ivr":
        return "card"
    if habit == "cash":
        return "cash" if amount <= CASH_LIMIT else "wire"
    if habit == "wire":
        return "crypto" if crypto_sized and rng.random() < 0.1 else "wire"
    if amount > GATEWAY_LIMIT:  # web and auto-recharge customers' manual top-ups
        return "wire"
    return "crypto" if crypto_sized and rng.random() < 0.2 else "gateway"
