"""Properties of the matcher, on generated ledgers and statements (hypothesis).

- A statement generated from the records themselves (one line per record, same amount,
  same day or a few days later, the reference when the source carries one) matches 100%,
  and every pair is a true pair: each line meets the record it was made from, or one
  indistinguishable from it (same channel, amount and day, and no reference).
- Shuffling the statement's lines changes nothing.
- Leaving a line out leaves exactly its record without money; an extra line is money without a record.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vosbench.analysis.matching.matcher import Line, Payment, Settings, match

CHANNELS = ("bank", "gateway", "ivr", "crypto")


@st.composite
def ledgers(draw):
    count = draw(st.integers(min_value=1, max_value=40))
    payments = []
    for index in range(count):
        amount = draw(st.sampled_from([500_000, 1_000_000, 2_500_000])) if draw(st.booleans()) else \
            draw(st.integers(min_value=1, max_value=10**9))
        payments.append(Payment(
            id=index + 1, channel=draw(st.sampled_from(CHANNELS)), day=739_000 + draw(st.integers(0, 30)),
            amount=amount if draw(st.integers(0, 9)) else -amount, account=f"C{draw(st.integers(1, 6)):05d}",
            reference=f"REF{index:04d}" if draw(st.booleans()) else ""))
    lag = draw(st.integers(0, 2))
    return payments, lag


def statement_of(payments: list[Payment], lag: int) -> list[Line]:
    """The perfect statement: every record's money, ``lag`` days later, with its reference."""
    return [Line(id=1000 + p.id, channel=p.channel, day=p.day + (lag if not p.reference else 0), amount=p.amount,
                 reference=p.reference, key=f"k{p.id}") for p in payments]


def pairs(groups) -> set[tuple[str, int]]:
    return {(line.key, p.id) for g in groups for line in g.lines for p in g.payments}


@settings(max_examples=150, deadline=None)
@given(ledgers())
def test_a_perfect_statement_matches_everything_with_no_false_pair(generated):
    payments, lag = generated
    lines = statement_of(payments, lag)
    groups = match(lines, payments, settings=Settings(window_days=2))
    assert all(g.status == "matched" for g in groups)
    assert all(len(g.lines) == 1 and len(g.payments) == 1 for g in groups)
    assert len(groups) == len(payments)
    by_key = {f"k{p.id}": p for p in payments}
    for line_key, payment_id in pairs(groups):
        made_from, paired = by_key[line_key], next(p for p in payments if p.id == payment_id)
        assert paired.id == made_from.id or (
            (paired.channel, paired.amount, paired.day, paired.reference)
            == (made_from.channel, made_from.amount, made_from.day, "") and not made_from.reference)


@settings(max_examples=100, deadline=None)
@given(ledgers(), st.randoms(use_true_random=False))
def test_shuffling_the_lines_changes_nothing(generated, rng):
    payments, lag = generated
    lines = statement_of(payments, lag)
    # a third of the lines lose a cent, so that the later rules have work too
    lines = [Line(l.id, l.channel, l.day, l.amount - 100 if i % 3 == 0 else l.amount, l.reference, key=l.key)
             for i, l in enumerate(lines)]
    before = match(lines, payments)
    shuffled = lines[:]
    rng.shuffle(shuffled)
    renumbered = [Line(5000 + i, l.channel, l.day, l.amount, l.reference, key=l.key) for i, l in enumerate(shuffled)]
    after = match(renumbered, list(reversed(payments)))
    def summary(groups):
        return sorted((g.status, g.rule, tuple(sorted(l.key for l in g.lines)), tuple(sorted(p.id for p in g.payments)))
                      for g in groups)
    assert summary(before) == summary(after)


@settings(max_examples=100, deadline=None)
@given(ledgers(), st.data())
def test_a_missing_line_is_a_record_without_money_and_an_extra_line_money_without_record(generated, data):
    payments, _ = generated
    payments = [p for p in payments if p.reference] or payments[:1]
    lines = statement_of(payments, 0)
    dropped = data.draw(st.sampled_from(lines))
    extra = Line(id=99_999, channel="bank", day=600_000, amount=123, reference="NOBODY", key="extra")
    kept = [line for line in lines if line is not dropped] + [extra]
    groups = match(kept, payments, settings=Settings(window_days=0))
    unpaid = [g for g in groups if g.status == "no_money"]
    unrecorded = [g for g in groups if g.status == "no_payment_record"]
    if dropped.reference:
        assert [g.payments[0].id for g in unpaid] == [dropped.id - 1000]
    assert len(unpaid) == 1 and [g.lines[0].key for g in unrecorded] == ["extra"]
