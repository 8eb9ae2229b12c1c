"""Pairing statement lines with payment records: the rules, in order, on plain records.

Every rule looks items up in an index (by reference, by amount, by amount net of fees)
instead of comparing every line with every payment, so a month of 40,000 deposits and a
50,000-line statement pair in seconds. Rules, in the order they run, each taking only
what the earlier ones left:

1. ``reference``: the line's reference (or a reference quoted in its description) is a
   payment's external reference; the amounts agree, or differ by the source's fee, or
   the pair is reported as an amount difference;
2. ``amount_date``: the same amount within the date window, the earliest record first;
3. ``fee``: the line is a payment less the source's fee (percent + fixed, within the
   profile's tolerance), within the date window;
4. ``batch``: one line is the exact sum of two to four payments within the window (a
   batched bank credit), and ``split``: several lines add up to one payment.

A line and a record only ever pair within one pool: the same channel (bank, gateway,
IVR, crypto) and the same currency (the line's and the account's).

Money out that the statement's rules classify as not a customer's (a fee, a supplier,
see :mod:`~vosbench.sources.bankfiles.outgoing`) is set aside under ``outgoing`` before
the rules run, unless it carries a withdrawal record's own reference and exact amount:
then it is that customer's refund, whatever its text says ("refund of call charges").

Analyst decisions come first: a manual match or confirmation is taken as it is, a
rejected pairing is never proposed again. Both sides are put in a canonical order
before the rules run, so the order the lines arrive in changes nothing.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from vosbench.core.money import format_money
from vosbench.sources.bankfiles.outgoing import Rule
from vosbench.sources.bankfiles.profiles import FeeSchedule

STATUSES = ("matched", "amount_difference", "wrong_account", "no_payment_record", "no_money", "outgoing")
"""What each item of a matching run turned out to be."""
STATUS_MEANING = {
    "matched": "statement line and payment record agree",
    "amount_difference": "paired, but the amounts differ by more than the source's fee",
    "wrong_account": "the money matches a deposit, but the statement names another account",
    "no_payment_record": "money arrived (a statement line) but no payment record matches it",
    "no_money": "a payment record with no statement line: recorded without money arriving",
    "outgoing": "money out that is not a customer's (fees, suppliers, own transfers), by the statement's rules",
}
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{5,}")


@dataclass(frozen=True)
class Line:
    """A statement line as the matcher sees it (``day`` is a date ordinal)."""

    id: int
    channel: str
    day: int
    amount: int
    reference: str = ""
    counterparty: str = ""
    account_hint: str = ""
    description: str = ""
    fee: FeeSchedule = FeeSchedule()
    key: str = ""  # the line's natural key: orders lines whose other fields are equal
    currency: str = ""
    outgoing: str = ""  # the class of money out that is not a customer's (fee, supplier, transfer), if any

    @property
    def pool(self) -> tuple[str, str]:
        """Only a payment of the same pool can pair with this line: same channel, same currency."""
        return (self.channel, self.currency)

    def order(self) -> tuple:
        return (self.day, self.amount, self.reference, self.counterparty, self.description, self.key)


@dataclass(frozen=True)
class Payment:
    """A payment record as the matcher sees it (``day``: local date ordinal)."""

    id: int
    channel: str
    day: int
    amount: int
    account: str
    name: str = ""
    reference: str = ""
    currency: str = ""  # the account's

    @property
    def pool(self) -> tuple[str, str]:
        return (self.channel, self.currency)


@dataclass
class Group:
    """Lines and payments taken together, with the rule that paired them and why."""

    lines: list[Line]
    payments: list[Payment]
    status: str
    rule: str
    score: float
    explanation: str
    decision: str = ""  # confirmed, matched by hand (with who), or empty

    @property
    def difference(self) -> int:
        """Statement minus records: negative when less money arrived than was recorded."""
        return sum(line.amount for line in self.lines) - sum(p.amount for p in self.payments)


@dataclass(frozen=True)
class Decision:
    """An analyst's decision on a pairing: ``confirm``, ``reject`` or ``match``."""

    action: str
    line_ids: frozenset[int]
    payment_ids: frozenset[int]
    decided_by: str = ""
    decision_id: int = 0  # its row in the decisions table (0: not recorded yet)


def latest_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """The decision that counts for each pairing, in the order taken: a later one on the same pairing wins."""
    latest: dict[tuple, Decision] = {}
    for decision in decisions:
        latest[(decision.line_ids, decision.payment_ids)] = decision
    return list(latest.values())


def unapplied(decisions: Sequence[Decision]) -> list[tuple[Decision, Decision]]:
    """Each confirm or match the matcher skips, with the earlier decision that holds one of its items.

    The matcher applies confirmed and hand-made pairings in the order they were taken and
    skips one that reuses a line or record an earlier one took (see :func:`_apply_decisions`).
    A decision on the very same pairing replaces the earlier one instead, and a rejection
    takes nothing.
    """
    taken: dict[tuple[str, int], Decision] = {}
    skipped = []
    for decision in latest_decisions(decisions):
        if decision.action == "reject":
            continue
        items = [("line", i) for i in decision.line_ids] + [("payment", i) for i in decision.payment_ids]
        clash = next((taken[item] for item in items if item in taken), None)
        if clash is not None:
            skipped.append((decision, clash))
            continue
        taken.update(dict.fromkeys(items, decision))
    return skipped


def standing_conflict(decisions: Sequence[Decision], new: Decision) -> Decision | None:
    """The earlier confirm or match that would keep ``new`` from ever applying, if any."""
    return next((clash for decision, clash in unapplied([*decisions, new]) if decision is new), None)


@dataclass
class Settings:
    window_days: int = 3
    """How far apart a line's date and a payment's date may be for rules 2–4."""
    max_batch: int = 4
    """Most payments one line may pay for (and lines one payment may be split into): 2 to 4."""
    outgoing: tuple[Rule, ...] = ()
    """Rules telling money out that is not a customer's, applied to lines their import left unclassified."""


def normalize(text: str) -> str:
    return "".join(text.split()).upper()


def name_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z ]", " ", text.lower()).split())


@dataclass
class _State:
    lines: list[Line]
    payments: list[Payment]
    forbidden: set[tuple[int, int]]
    settings: Settings
    groups: list[Group] = field(default_factory=list)
    used_lines: set[int] = field(default_factory=set)
    used_payments: set[int] = field(default_factory=set)

    def free_lines(self) -> list[Line]:
        return [line for line in self.lines if line.id not in self.used_lines]

    def free_payments(self) -> list[Payment]:
        return [p for p in self.payments if p.id not in self.used_payments]

    def take(self, group: Group) -> None:
        self.groups.append(group)
        self.used_lines.update(line.id for line in group.lines)
        self.used_payments.update(p.id for p in group.payments)


def match(lines: list[Line], payments: list[Payment], decisions: Sequence[Decision] = (),
          settings: Settings | None = None) -> list[Group]:
    """Pair ``lines`` with ``payments``; every line and payment ends up in exactly one group."""
    settings = settings or Settings()
    lines = sorted(map(functools.partial(_classified, rules=settings.outgoing), lines) if settings.outgoing else lines,
                   key=Line.order)
    payments = sorted(payments, key=lambda p: (p.day, p.id))
    latest = latest_decisions(decisions)
    forbidden = {(l, p) for d in latest if d.action == "reject" for l in d.line_ids for p in d.payment_ids}
    state = _State(lines, payments, forbidden, settings)
    _apply_decisions(state, latest)
    # money out that the rules call a fee or a supplier's, yet carrying a withdrawal record's own reference and
    # amount, is that customer's refund ("refund of call charges"): it pairs before the rest is set aside
    _by_reference(state, [line for line in state.free_lines() if line.outgoing], exact=True)
    for line in state.free_lines():
        if line.outgoing:  # not customer money: never paired with a deposit or a withdrawal
            state.take(Group([line], [], "outgoing", line.outgoing, 1.0,
                             f"money out classified as {line.outgoing} by the statement's rules"))
    _by_reference(state, state.free_lines())
    _by_amount_and_date(state)
    _by_fee(state)
    _batches(state)
    _splits(state)
    for line in state.free_lines():
        state.groups.append(Group([line], [], "no_payment_record", "", 0.0,
                                  "no payment record with this reference or amount near this date"))
    for payment in state.free_payments():
        state.groups.append(Group([], [payment], "no_money", "", 0.0,
                                  "no statement line with this reference or amount near this date"))
    return state.groups


def _classified(line: Line, rules: tuple[Rule, ...]) -> Line:
    """``line`` with the class of the first of ``rules`` that applies, unless its import classified it already."""
    rule = None if line.outgoing else next((rule for rule in rules if rule.applies(line)), None)
    return dataclasses.replace(line, outgoing=rule.name) if rule else line


def pair_status(lines: list[Line], payments: list[Payment]) -> tuple[str, str]:
    """matched, or amount_difference, and the words for the amounts."""
    received = sum(line.amount for line in lines)
    recorded = sum(p.amount for p in payments)
    if received == recorded:
        return "matched", f"amount {format_money(recorded)} equal"
    fee = lines[0].fee if lines else FeeSchedule()
    expected = sum(p.amount - fee.fee(p.amount) for p in payments)
    if fee.charged and abs(received - expected) <= fee.tolerance:
        return "matched", (f"{format_money(received)} is {format_money(recorded)} less the source's fee of "
                           f"{format_money(recorded - received)} ({fee.percent}% + {format_money(fee.fixed)})")
    return "amount_difference", (f"statement {format_money(received)}, recorded {format_money(recorded)}: "
                                 f"{format_money(received - recorded)} apart")


def _apply_decisions(state: _State, decisions) -> None:
    lines = {line.id: line for line in state.lines}
    payments = {p.id: p for p in state.payments}
    for decision in decisions:
        if decision.action == "reject":
            continue
        chosen_lines = [lines[i] for i in sorted(decision.line_ids) if i in lines]
        chosen_payments = [payments[i] for i in sorted(decision.payment_ids) if i in payments]
        if not chosen_lines and not chosen_payments:
            continue
        if state.used_lines & {l.id for l in chosen_lines} or state.used_payments & {p.id for p in chosen_payments}:
            continue  # an item already taken by another decision: the earlier one stands
        status, words = pair_status(chosen_lines, chosen_payments) if chosen_lines and chosen_payments else (
            "no_payment_record" if chosen_lines else "no_money", "")
        verb = "confirmed" if decision.action == "confirm" else "matched by hand"
        state.take(Group(chosen_lines, chosen_payments, status, "manual" if decision.action == "match" else "confirmed",
                         1.0, f"{verb} by {decision.decided_by}" + (f"; {words}" if words else ""),
                         decision=f"{verb} by {decision.decided_by}"))


@functools.lru_cache(maxsize=65_536)
def _tokens(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text))


@functools.lru_cache(maxsize=65_536)
def _name_key_cached(text: str) -> str:
    return name_key(text)


def _names(line: Line, payment: Payment) -> bool:
    """Whether the line names the payment's account: the source's account, an account number in its
    text, or the payer's name (banks cut long names, so a name the account's begins with counts)."""
    if line.account_hint:
        return payment.account == line.account_hint
    if payment.account in _tokens(line.description) or payment.account in _tokens(line.reference):
        return True
    payer = _name_key_cached(line.counterparty)
    return bool(payer) and _name_key_cached(payment.name).startswith(payer)


def _near(state: _State, line: Line, candidates: list[Payment]) -> Payment | None:
    """The allowed candidate nearest in date, preferring the account the line names."""
    best, best_key = None, None
    for payment in candidates:
        if payment.id in state.used_payments or (line.id, payment.id) in state.forbidden:
            continue
        key = (abs(payment.day - line.day), not _names(line, payment), payment.day, payment.id)
        if best_key is None or key < best_key:
            best, best_key = payment, key
    return best


def _by_reference(state: _State, lines: list[Line], *, exact: bool = False) -> None:
    """Pair each of ``lines`` with a record whose reference it quotes (as its reference or a word of its text),
    the same way (in or out), nearest in date; ``exact``: only with a record of exactly its amount."""
    index: dict[tuple, list[Payment]] = defaultdict(list)
    for record in state.payments:
        if record.reference:
            index[(record.pool, normalize(record.reference))].append(record)
    for line in lines:
        references = [normalize(line.reference)] if line.reference else []
        references += [normalize(t) for t in _TOKEN.findall(line.description)]
        candidates = [p for ref in dict.fromkeys(references) for p in index.get((line.pool, ref), ())
                      if (p.amount > 0) == (line.amount > 0)]
        if not candidates:
            continue
        same_amount = [p for p in candidates if p.amount == line.amount]
        payment = _near(state, line, same_amount) or (None if exact else _near(state, line, candidates))
        if payment is None:
            continue
        status, words = pair_status([line], [payment])
        score = 1.0 if status == "matched" else 0.6
        told = f"; the statement's rules called it {line.outgoing}" if line.outgoing else ""
        state.take(Group([line], [payment], status, "reference", score,
                         f"reference {payment.reference} equal; {words}{told}"))


class _Bucket:
    """Payments that look alike to a rule (same pool and amount), by day: a cursor skips the used."""

    def __init__(self):
        self.payments: list[Payment] = []
        self.start = 0

    def within(self, state: _State, line: Line) -> list[Payment]:
        """The free payments within the window of ``line``; lines come in day order, so the cursor only advances."""
        window = state.settings.window_days
        while self.start < len(self.payments) and (self.payments[self.start].id in state.used_payments
                                                   or self.payments[self.start].day < line.day - window):
            self.start += 1
        found = []
        for payment in itertools.islice(self.payments, self.start, None):
            if payment.day > line.day + window:
                break
            if payment.id not in state.used_payments and (line.id, payment.id) not in state.forbidden:
                found.append(payment)
        return found


def _buckets(payments, key) -> dict:
    buckets: dict = defaultdict(_Bucket)
    for payment in sorted(payments, key=lambda p: (p.day, p.id)):
        buckets[key(payment)].payments.append(payment)
    return buckets


def _earliest(line: Line, candidates: list[Payment]) -> Payment | None:
    """The earliest candidate, preferring the account the line names (see :func:`_names`).

    Earliest, not nearest: money is credited in the order it was paid, so among records
    that look alike the first one paid meets the first line posted. That keeps pairs
    from crossing, which makes a perfect statement pair exactly even when every credit
    lands a day or two after its record.
    """
    named = [p for p in candidates if _names(line, p)]
    return min(named or candidates, key=lambda p: (p.day, p.id), default=None)


def _by_amount_and_date(state: _State) -> None:
    buckets = _buckets(state.free_payments(), lambda p: (p.pool, p.amount))
    for line in state.free_lines():
        bucket = buckets.get((line.pool, line.amount))
        payment = _earliest(line, bucket.within(state, line)) if bucket else None
        if payment is None:
            continue
        days = abs(payment.day - line.day)
        state.take(Group([line], [payment], "matched", "amount_date", round(0.9 - 0.05 * days, 2),
                         f"same amount {format_money(line.amount)}, {days} day(s) apart; no shared reference"))


def _by_fee(state: _State) -> None:
    for fee in sorted({line.fee for line in state.free_lines() if line.fee.charged}, key=repr):
        buckets = _buckets([p for p in state.free_payments() if p.amount > 0],
                           lambda p, fee=fee: (p.pool, p.amount - fee.fee(p.amount)))
        nets = sorted(buckets)
        for line in [l for l in state.free_lines() if l.fee == fee and l.amount > 0]:
            low = bisect.bisect_left(nets, (line.pool, line.amount - fee.tolerance))
            high = bisect.bisect_right(nets, (line.pool, line.amount + fee.tolerance))
            candidates = [p for key in nets[low:high] for p in buckets[key].within(state, line)]
            payment = _earliest(line, candidates)
            if payment is None:
                continue
            status, words = pair_status([line], [payment])
            state.take(Group([line], [payment], status, "fee", 0.8, f"no shared reference; {words}"))


def _subset_with_sum(items: list, target: int, amount, max_size: int) -> list | None:
    """The first 2..max_size items (in the given order) whose amounts add up to ``target``.

    The last item of each combination is looked up by the amount still missing, so a
    search costs one pass over the combinations of the others; the candidates are cut to
    the nearest few, which is where a batch's parts are.
    """
    items = [item for item in items if 0 < abs(amount(item)) < abs(target)][:40]
    amounts = [amount(item) for item in items]
    positions: dict[int, list[int]] = defaultdict(list)
    for position, value in enumerate(amounts):
        positions[value].append(position)

    def last_after(rest: int, after: int) -> int | None:
        return next((i for i in positions.get(rest, ()) if i > after), None)

    count = len(items)
    for i in range(count):
        found = last_after(target - amounts[i], i)
        if found is not None:
            return [items[i], items[found]]
    if max_size >= 3:
        for i in range(count):
            for j in range(i + 1, count):
                found = last_after(target - amounts[i] - amounts[j], j)
                if found is not None:
                    return [items[i], items[j], items[found]]
    if max_size >= 4 and count <= 25:
        for i, j, k in itertools.combinations(range(count), 3):
            found = last_after(target - amounts[i] - amounts[j] - amounts[k], k)
            if found is not None:
                return [items[i], items[j], items[k], items[found]]
    return None


class _ByDay:
    """Items of each pool sorted by day, to cut a date window out by bisection."""

    def __init__(self, items):
        self.items: dict[tuple, list] = defaultdict(list)
        for item in sorted(items, key=lambda item: (item.day, item.id)):
            self.items[item.pool].append(item)
        self.days = {pool: [item.day for item in listing] for pool, listing in self.items.items()}

    def around(self, pool: tuple, day: int, window: int) -> list:
        days = self.days.get(pool, [])
        low, high = bisect.bisect_left(days, day - window), bisect.bisect_right(days, day + window)
        return self.items[pool][low:high]


def _pays_for(target: int, candidates: list, amount) -> bool:
    """Whether same-signed ``candidates`` could add up to ``target`` at all (a cheap test before the search)."""
    return abs(sum(amount(c) for c in candidates if (amount(c) > 0) == (target > 0))) >= abs(target)


CROWDED = 120
"""More unpaired items than this within one window and a sum of two to four of them would
match almost any amount by chance (and the search would cost seconds): no batch or split
is looked for there. That happens when a statement does not cover the dates at all."""


def _amount(item) -> int:
    return item.amount


def _sums(state: _State, anchors: list, parts: list, used: set[int], pair, order, group) -> None:
    """Each anchor that two to ``max_batch`` free parts of the other side add up to, within the window.

    ``pair(anchor, part)`` is the (line id, payment id) of a pairing, to skip rejected ones;
    ``order(part)`` breaks ties between parts equally near in date; ``group(anchor, chosen)``
    makes the result.
    """
    window, free = state.settings.window_days, _ByDay(parts)
    for anchor in anchors:
        around = free.around(anchor.pool, anchor.day, window)
        if len(around) > CROWDED:
            continue
        candidates = [part for part in around if part.id not in used
                      and (part.amount > 0) == (anchor.amount > 0) and pair(anchor, part) not in state.forbidden]
        if len(candidates) < 2 or not _pays_for(anchor.amount, candidates, _amount):
            continue
        candidates.sort(key=lambda part: (abs(part.day - anchor.day), order(part)))
        chosen = _subset_with_sum(candidates, anchor.amount, _amount, state.settings.max_batch)
        if chosen:
            state.take(group(anchor, chosen))


def _batches(state: _State) -> None:
    """One statement line paying several records (a batched bank credit)."""
    window = state.settings.window_days
    _sums(state, state.free_lines(), state.free_payments(), state.used_payments,
          pair=lambda line, payment: (line.id, payment.id), order=lambda payment: (payment.day, payment.id),
          group=lambda line, chosen: Group(
              [line], chosen, "matched", "batch", 0.7,
              f"one credit of {format_money(line.amount)} pays {len(chosen)} records "
              f"({', '.join(sorted({p.account for p in chosen}))}) within {window} day(s)"))


def _splits(state: _State) -> None:
    """Several statement lines paying one record (a split payment)."""
    _sums(state, state.free_payments(), state.free_lines(), state.used_lines,
          pair=lambda payment, line: (line.id, payment.id), order=Line.order,
          group=lambda payment, chosen: Group(
              chosen, [payment], "matched", "split", 0.7,
              f"{len(chosen)} statement lines add up to the record's {format_money(payment.amount)}"))


def flag_wrong_accounts(groups: list[Group], accounts: dict[str, str]) -> None:
    """Mark paired groups whose statement names another account (by number or by the payer's name).

    ``accounts`` maps account number to name. A line names an account when the source
    gives one (a gateway's customer account, an IVR caller, a wallet memo), when its
    description quotes an account number, or when its counterparty is exactly the name of
    one account — and that account is not the one the money was recorded on.
    """
    by_name: dict[str, list[str]] = defaultdict(list)
    for number, name in accounts.items():
        by_name[name_key(name)].append(number)
    for group in groups:
        if not group.lines or not group.payments or group.decision:
            continue
        recorded = {p.account for p in group.payments}
        single = len(group.lines) == 1 and len(group.payments) == 1  # a batch is often paid by a parent
        for line in group.lines:
            named = _named_accounts(line, accounts, by_name if single else {})
            if named and not (named & recorded):
                named -= recorded
                other = sorted(named)[0]
                group.status = "wrong_account"
                group.explanation += (f"; but the statement names {other} '{accounts.get(other, '')}', and the "
                                      f"money was recorded on {', '.join(sorted(recorded))}")
                break


def _named_accounts(line: Line, accounts: dict[str, str], by_name: dict[str, list[str]]) -> set[str]:
    named = set()
    if line.account_hint and line.account_hint in accounts:
        named.add(line.account_hint)
    for token in _TOKEN.findall(line.description) + _TOKEN.findall(line.reference):
        if token in accounts:
            named.add(token)
    if line.counterparty:
        named.update(by_name.get(name_key(line.counterparty), ()))
    return named
