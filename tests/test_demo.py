"""The demo ledger: deterministic, realistic in shape, clean except for what it plants.

The balance checks here are computed from the raw rows with the convention written out
in the test (a day's charges are deducted at the local midnight that ends it), not with
the reconcile module, so that both are checked against each other.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from vosbench.core.money import UNIT
from vosbench.ledger import hashchain, setup, tables, verification
from vosbench.sources import demo

SMALL = demo.DemoScale(customers=60, months=4)
LAST = "2026-10"
DUBAI = ZoneInfo("Asia/Dubai")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One small demo, shared by the read-only tests: (url, path, answer key)."""
    path = tmp_path_factory.mktemp("demo") / "ledger.sqlite"
    url = f"sqlite:///{path}"
    key = demo.build_demo(url, SMALL, progress=False)
    return url, path, key


@pytest.fixture(scope="module")
def engine(built):
    return setup.open_ledger(built[0])


@pytest.fixture(scope="module")
def rows(engine):
    """Payments (with account numbers), charges and snapshots as plain dicts."""
    with engine.connect() as connection:
        accounts = {row.id: row for row in connection.execute(sa.select(tables.accounts))}

        def read(table):
            return [dict(row._mapping, account=accounts[row.account_id].account)
                    for row in connection.execute(sa.select(table).order_by(table.c.id))]
        return {"accounts": {row.account: row for row in accounts.values()},
                "payments": read(tables.payments), "charges": read(tables.charges),
                "snapshots": read(tables.balance_snapshots)}


def anomaly(key: dict, kind: str) -> dict:
    (found,) = [a for a in key["anomalies"] if a["kind"] == kind]
    return found


def day_end(day) -> datetime:
    """Naive UTC instant a local day's charges are deducted: the Dubai midnight starting the next day."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=DUBAI) + timedelta(days=1)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def month_of(instant: datetime) -> str:
    return instant.replace(tzinfo=UTC).astimezone(DUBAI).strftime("%Y-%m")


def replay(rows: dict):
    """Walk every account's records and charges in time order, as the convention says.

    Returns (breaks, journal_misses, reported_misses):
    - breaks: payment ids whose balance_after != previous reported balance − charges since + amount;
    - journal_misses: (account, month) whose snapshot != sum of payments − charges up to as_of;
    - reported_misses: (account, month) whose snapshot != the last reported balance − charges since.
    """
    # account -> (instant, order, id, what, row): at one instant the day's charges come first
    # (e(d) <= t counts as before t), then payments in id order, then the snapshot.
    events = defaultdict(list)
    for charge in rows["charges"]:
        events[charge["account"]].append((day_end(charge["day"]), 0, charge["id"], "charge", charge))
    for payment in rows["payments"]:
        events[payment["account"]].append((payment["occurred_at"], 1, payment["id"], "payment", payment))
    for snapshot in rows["snapshots"]:
        events[snapshot["account"]].append((snapshot["as_of"], 2, snapshot["id"], "snapshot", snapshot))
    breaks, journal_misses, reported_misses = [], set(), set()
    for account, timeline in events.items():
        journal = reported = 0  # accounts open at zero
        for *_order, what, item in sorted(timeline):
            if what == "charge":
                deducted = item["call_fee"] + item["agent_fee"] + item["other_fee"]
                journal -= deducted
                reported -= deducted
            elif what == "payment":
                journal += item["amount"]
                if item["balance_after"] != reported + item["amount"]:
                    breaks.append(item["id"])
                reported = item["balance_after"]
            else:
                month = month_of(item["as_of"] - timedelta(seconds=1))
                if item["balance"] != journal:
                    journal_misses.add((account, month))
                if item["balance"] != reported:
                    reported_misses.add((account, month))
    return breaks, journal_misses, reported_misses


def test_same_scale_gives_the_same_ledger(tmp_path, built):
    key = demo.build_demo(f"sqlite:///{tmp_path / 'again.sqlite'}", SMALL, progress=False)
    with setup.open_ledger(built[0]).connect() as first, \
            setup.open_ledger(f"sqlite:///{tmp_path / 'again.sqlite'}").connect() as second:
        assert hashchain.fingerprint(first) == hashchain.fingerprint(second)
    assert key == built[2]
    assert json.loads((tmp_path / "again.answer-key.json").read_text()) == key


def test_another_seed_gives_another_ledger(tmp_path, built):
    other = demo.DemoScale(customers=60, months=4, seed=7)
    demo.build_demo(f"sqlite:///{tmp_path / 'other.sqlite'}", other, progress=False)
    with setup.open_ledger(built[0]).connect() as first, \
            setup.open_ledger(f"sqlite:///{tmp_path / 'other.sqlite'}").connect() as second:
        assert hashchain.fingerprint(first)["payments"]["head"] != hashchain.fingerprint(second)["payments"]["head"]


def test_answer_key_is_stored_in_the_ledger_and_beside_it(built, engine):
    _url, path, key = built
    assert demo.answer_key(engine) == key
    assert json.loads(path.with_name("ledger.answer-key.json").read_text()) == key
    assert key["timezone"] == demo.DEFAULT_TIMEZONE and key["seed"] == SMALL.seed
    assert [a["id"] for a in key["anomalies"]] == [f"A{n}" for n in range(1, 9)]
    assert {a["month"] for a in key["anomalies"]} == {LAST}


def test_ledger_verifies(engine):
    result = verification.verify(engine)
    assert result.ok, (result.breaks, result.total_mismatches[:3])


def test_hierarchy_counts_and_parents(rows):
    accounts = rows["accounts"]
    by_id = {row.id: row for row in accounts.values()}
    kinds = defaultdict(list)
    for row in accounts.values():
        kinds[row.kind].append(row)
    assert {kind: len(rows_) for kind, rows_ in kinds.items()} == {"reseller": 2, "agent": 8, "customer": 60}
    assert all(row.parent_id is None for row in kinds["reseller"])
    assert all(by_id[row.parent_id].kind == "reseller" for row in kinds["agent"])
    assert all(by_id[row.parent_id].kind == "agent" for row in kinds["customer"])
    assert {row.currency for row in accounts.values()} == {"USD"}
    assert any(row.credit_limit > 0 for row in kinds["customer"])
    assert all(row.name.strip() for row in accounts.values())


def test_every_kind_channel_and_method_is_used(rows):
    payments = rows["payments"]
    assert {p["kind"] for p in payments} == {"deposit", "withdrawal", "adjustment", "bonus", "commission",
                                             "auto_recharge"}
    assert {p["channel"] for p in payments} == {"admin", "web", "ivr", "api", "automatic", "import"}
    assert {p["method"] for p in payments} == {"cash", "bank_wire", "card", "crypto", "recharge_card",
                                               "gateway", "other"}
    people = {p["operator"] for p in payments if p["channel"] in ("admin", "import")}
    people |= {p["approved_by"] for p in payments if p["approved_by"]}
    assert len(people) >= 5 and not people & {"system", "web", "ivr", "api"}
    kinds = [p["kind"] for p in payments]  # deposits most common, withdrawals rare
    assert kinds.count("deposit") > len(kinds) / 2 and kinds.count("withdrawal") < kinds.count("deposit") / 20


def test_references_say_how_the_money_came(rows):
    for p in rows["payments"]:
        if p["kind"] != "deposit" or p["reverses_id"]:
            continue
        reference = p["reference"]
        if p["method"] == "crypto":
            assert len(reference.removeprefix("0x")) == 64, reference
        elif p["method"] == "bank_wire":
            assert reference.startswith("FT"), reference
        elif p["method"] == "gateway":
            assert reference.startswith("ch_"), reference
        elif p["method"] == "recharge_card":
            assert reference.startswith("RC") and p["channel"] == "ivr"


def test_accounts_open_over_time(rows):
    first_month = {}
    for p in rows["payments"]:
        first_month.setdefault(p["account"], month_of(p["occurred_at"]))
    customers = [a for a, row in rows["accounts"].items() if row.kind == "customer"]
    opened = [first_month[a] for a in customers if a in first_month]
    assert 0 < opened.count("2026-07") < len(customers)
    assert len(set(opened)) >= 3


def test_commissions_are_rate_times_last_months_call_fees(rows, built):
    key = built[2]
    parents = {row.id: row.account for row in rows["accounts"].values()}
    parent_of = {a: parents.get(row.parent_id) for a, row in rows["accounts"].items()}
    fees = defaultdict(int)  # (agent or reseller, month) -> call fees of its customers
    for charge in rows["charges"]:
        agent = parent_of[charge["account"]]
        for upline in (agent, parent_of.get(agent)):
            if upline:
                fees[(upline, charge["day"].strftime("%Y-%m"))] += charge["call_fee"]
    mismatch = anomaly(key, "commission_mismatch")
    checked = 0
    for p in rows["payments"]:
        if p["kind"] != "commission":
            continue
        traffic_month = p["reference"][len("COMM-"):len("COMM-YYYY-MM")]  # COMM-2026-09-A0001
        rate = Decimal(key["commission_rates"][p["account"]])
        due = int((fees[(p["account"], traffic_month)] * rate).to_integral_value(rounding=ROUND_HALF_EVEN))
        if p["id"] in mismatch["payment_ids"]:
            assert p["amount"] != due
        else:
            assert p["amount"] == due, p
            checked += 1
    assert checked >= 10


def test_only_the_planted_records_break_the_balance_chain(rows, built):
    key = built[2]
    breaks, journal_misses, reported_misses = replay(rows)
    not_updated = anomaly(key, "balance_not_updated")
    mismatch = anomaly(key, "snapshot_mismatch")
    assert breaks == not_updated["payment_ids"]
    # The snapshot disagrees with the records only where planted: the fault in the snapshot itself …
    assert reported_misses == {(mismatch["account"], LAST)}
    # … and, against the journal's sum, also where the balance did not update (from that month on).
    assert journal_misses == {(mismatch["account"], LAST), (not_updated["account"], LAST)}


def test_balance_not_updated_stays_short_by_the_amount(rows, built):
    planted = anomaly(built[2], "balance_not_updated")
    (deposit,) = [p for p in rows["payments"] if p["id"] in planted["payment_ids"]]
    assert deposit["kind"] == "deposit" and month_of(deposit["occurred_at"]) == LAST
    later = [p for p in rows["payments"] if p["account"] == planted["account"] and p["id"] > deposit["id"]]
    journal = sum(p["amount"] for p in rows["payments"] if p["account"] == planted["account"]) - sum(
        c["call_fee"] + c["agent_fee"] + c["other_fee"] for c in rows["charges"] if c["account"] == planted["account"])
    (snapshot,) = [s for s in rows["snapshots"] if s["account"] == planted["account"] and month_of(
        s["as_of"] - timedelta(seconds=1)) == LAST]
    assert snapshot["balance"] == journal - deposit["amount"]
    assert all(p["balance_after"] is not None for p in later)


def test_planted_records_have_their_stated_properties(rows, built):
    key = built[2]
    payments = {p["id"]: p for p in rows["payments"]}

    def records(kind):
        planted = anomaly(key, kind)
        found = [payments[i] for i in planted["payment_ids"]]
        assert found and all(p["account"] == planted["account"] for p in found)
        assert all(month_of(p["occurred_at"]) == LAST for p in found)
        return found

    (adjustment,) = records("adjustment_without_reason")
    assert adjustment["kind"] == "adjustment" and adjustment["reason"] == ""
    assert all(p["reason"] for p in payments.values() if p["kind"] == "adjustment" and p is not adjustment)

    (large,) = records("unapproved_large_deposit")
    assert large["channel"] == "admin" and large["approved_by"] == "" and large["amount"] >= 10_000 * UNIT
    others = [p for p in payments.values() if p["kind"] == "deposit" and p["amount"] >= 10_000 * UNIT
              and p is not large]
    assert others and all(p["approved_by"] and p["approved_by"] != p["operator"] for p in others)

    first, second = records("duplicate_deposit")
    assert (first["amount"], first["reference"]) == (second["amount"], second["reference"])
    assert abs(second["occurred_at"] - first["occurred_at"]) < timedelta(days=1)
    breaks, _, _ = replay(rows)
    assert first["id"] not in breaks and second["id"] not in breaks  # both raised the balance
    same = defaultdict(list)
    for p in payments.values():
        if p["kind"] == "deposit" and p["amount"] > 0:
            same[(p["account"], p["amount"], p["reference"])].append(p["id"])
    assert [ids for ids in same.values() if len(ids) > 1] == [sorted(anomaly(key, "duplicate_deposit")["payment_ids"])]

    (wrong,) = records("wrong_account_deposit")
    intended = wrong["memo"].rsplit("ref. ", 1)[1]
    assert intended != wrong["account"] and intended in rows["accounts"]
    names = rows["accounts"][intended].name, rows["accounts"][wrong["account"]].name
    assert names[0] != names[1] and names[0].split()[0][:3] == names[1].split()[0][:3]

    deposit, reversal = records("reversed_deposit")
    assert reversal["reverses_id"] == deposit["id"] and reversal["amount"] == -deposit["amount"]
    assert reversal["reason"]
    assert [p["id"] for p in payments.values() if p["reverses_id"] and month_of(p["occurred_at"]) == LAST] \
        == [reversal["id"]]
    legitimate = [p for p in payments.values() if p["reverses_id"] and p is not reversal]
    assert legitimate and all(p["reason"] and payments[p["reverses_id"]]["kind"] == "deposit" for p in legitimate)

    (paid,) = records("commission_mismatch")
    assert paid["kind"] == "commission" and rows["accounts"][paid["account"]].kind == "agent"


def test_snapshots_cover_every_account_with_history_at_every_month_end(rows):
    as_of = {month_of(s["as_of"] - timedelta(seconds=1)) for s in rows["snapshots"]}
    assert as_of == {"2026-07", "2026-08", "2026-09", LAST}
    active = {p["account"] for p in rows["payments"]} | {c["account"] for c in rows["charges"]}
    assert {s["account"] for s in rows["snapshots"] if month_of(s["as_of"] - timedelta(seconds=1)) == LAST} \
        == active
    for snapshot in rows["snapshots"]:  # as_of is the Dubai midnight that starts the next month
        local = snapshot["as_of"].replace(tzinfo=UTC).astimezone(DUBAI)
        assert (local.day, local.hour, local.minute) == (1, 0, 0)


def test_building_into_a_ledger_with_records_is_refused(built, engine):
    with engine.connect() as connection:
        before = hashchain.fingerprint(connection)
    with pytest.raises(demo.DemoError, match=r"already holds .*payments.*another ledger with --db"):
        demo.build_demo(built[0], SMALL, progress=False)
    with engine.connect() as connection:
        assert hashchain.fingerprint(connection) == before


def test_ensure_demo_builds_only_when_no_ledger_is_there(tmp_path, monkeypatch, built):
    calls = []
    monkeypatch.setattr("vosbench.sources.demo.build.build_demo", lambda url, **kw: calls.append(url))
    assert demo.ensure_demo(built[0], progress=False) is False
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert demo.ensure_demo(fresh, progress=False) is True
    assert calls == [fresh]


def test_a_bad_scale_is_refused_with_the_setting_named(tmp_path):
    with pytest.raises(ValueError, match="end_month: month '2026-13'.*YYYY-MM"):
        demo.build_demo(f"sqlite:///{tmp_path / 'x.sqlite'}", demo.DemoScale(end_month="2026-13"))
    with pytest.raises(ValueError, match="end_month: 2099-01 has not ended yet"):  # records dated after their recording
        demo.build_demo(f"sqlite:///{tmp_path / 'x.sqlite'}", demo.DemoScale(end_month="2099-01"))
    with pytest.raises(ValueError, match="customers=5"):
        demo.build_demo(f"sqlite:///{tmp_path / 'x.sqlite'}", demo.DemoScale(customers=5))
    with pytest.raises(ValueError, match="payments_per_month=100: give at least one per customer"):
        demo.build_demo(f"sqlite:///{tmp_path / 'x.sqlite'}", demo.DemoScale(payments_per_month=100))
    assert not (tmp_path / "x.sqlite").exists()


def test_payments_per_month_sets_the_volume(tmp_path):
    scale = demo.DemoScale(customers=40, months=3, payments_per_month=1500)
    demo.build_demo(f"sqlite:///{tmp_path / 'big.sqlite'}", scale, progress=False)
    with setup.open_ledger(f"sqlite:///{tmp_path / 'big.sqlite'}").connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(tables.payments))
    assert 0.8 * 4500 < count < 1.2 * 4500


def test_reconciliation_flags_exactly_the_visible_planted_accounts(engine, built):
    from vosbench.analysis import reconcile

    key = built[2]
    assert [a["kind"] for a in key["anomalies"] if a["reconciliation_visible"]] == [
        "balance_not_updated", "snapshot_mismatch"]
    differences = reconcile.reconcile(engine, LAST).differences()
    assert dict(zip(differences["account"], differences["classification"])) == {
        anomaly(key, "balance_not_updated")["account"]: "balance not updated",
        anomaly(key, "snapshot_mismatch")["account"]: "snapshot disagrees",
    }
    for month in ("2026-07", "2026-08", "2026-09"):
        assert reconcile.reconcile(engine, month).differences().empty, month


def test_default_hierarchy_grows_and_churns():
    from vosbench.sources.demo import hierarchy

    people = hierarchy.generate(demo.DemoScale(), demo.DEFAULT_TIMEZONE)
    customers = people.customers
    assert (len(people.resellers), len(people.agents), len(customers)) == (2, 8, 2000)
    from_start = sum(c.opens == 0 for c in customers)
    assert 0.25 * 2000 < from_start < 0.5 * 2000  # the rest open over the 24 months
    assert len({c.opens for c in customers}) == 24
    assert 100 < sum(c.churns is not None for c in customers) < 400
    assert 100 < sum(c.credit_limit > 0 for c in customers) < 400
    assert {a.reseller for a in people.agents} == {0, 1}


def test_weekends_are_quieter(rows):
    weekday, weekend = defaultdict(int), defaultdict(int)
    for charge in rows["charges"]:
        (weekend if charge["day"].weekday() >= 5 else weekday)[charge["day"]] += charge["calls"]
    assert sum(weekend.values()) / len(weekend) < 0.95 * sum(weekday.values()) / len(weekday)


def test_an_interrupted_build_leaves_no_ledger_behind(tmp_path, monkeypatch):
    from vosbench.sources.demo.simulate import Simulation

    calls = []

    def fail_in_the_third_month(self, month):
        calls.append(month.label)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, month)

    original = Simulation.run
    monkeypatch.setattr(Simulation, "run", fail_in_the_third_month)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with pytest.raises(KeyboardInterrupt):
        demo.build_demo(url, SMALL, progress=False)
    assert not (tmp_path / "ledger.sqlite").exists()  # so ensure_demo would build it again
    monkeypatch.setattr(Simulation, "run", original)
    key = demo.build_demo(url, SMALL, progress=False)  # the half-built leftover is cleared first
    assert demo.answer_key(setup.open_ledger(url)) == key
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_commission_rounds_half_to_even_in_minor_units():
    from vosbench.sources.demo.simulate import commission

    assert commission(123_456_789, "0.045") == 5_555_556  # 5,555,555.505 minor units → up
    assert commission(100, "0.005") == 0  # 0.5 → the even neighbour 0
    assert commission(300, "0.005") == 2  # 1.5 → the even neighbour 2
    assert commission(0, "0.050") == 0


def test_top_up_amounts_are_round_sums():
    from vosbench.sources.demo.payments import nice

    assert nice(7 * UNIT + 4_999) == 7 * UNIT  # 7.4999 → 7 (whole dollars below 20)
    assert nice(123 * UNIT) == 120 * UNIT  # steps of 10 below 500
    assert nice(12_345_600) == 1_250 * UNIT  # 1,234.56 → steps of 50 below 2,000
    assert nice(48_760 * UNIT) == 49_000 * UNIT  # steps of 500 from 10,000
    assert nice(0) == 1 * UNIT  # nobody pays nothing


def test_months_are_cut_at_dubai_midnight():
    from vosbench.sources.demo.timeline import months_ending

    september, october = months_ending("2026-10", 2, "Asia/Dubai")
    assert (september.label, october.label) == ("2026-09", "2026-10")
    assert len(october.days) == 31 and october.days[0].isoformat() == "2026-10-01"
    assert october.day_starts[0] == datetime(2026, 9, 30, 20, 0)  # 00:00 +04:00
    assert october.end == datetime(2026, 10, 31, 20, 0) == day_end(october.days[-1])
    assert september.end == october.day_starts[0]
    assert october.moment(2, 3_600) == datetime(2026, 10, 2, 21, 0)  # 3 Oct 01:00 local


def test_large_payouts_are_counter_signed_without_drawing_from_the_random_stream():
    import random

    from vosbench.sources.demo.payments import RecordMaker

    rng = random.Random(7)
    maker = RecordMaker(rng)
    state = rng.getstate()
    payout = maker.withdrawal(3, "R0001", 11_010 * UNIT, "daniel.meyer", 50_000, "PAYOUT-1", "Quarterly payout")
    small = maker.withdrawal(3, "C00001", 9_999 * UNIT, "daniel.meyer", 50_000, "REFUND-C00001", "Refund")
    assert (payout.amount, payout.approved_by) == (-11_010 * UNIT, "fatima.saleh")  # the other supervisor
    assert small.approved_by == "" and rng.getstate() == state  # the rest of the demo is unchanged
