"""PaymentFilter: one validated object from the panel, the CLI and papermill parameters."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.core.model import Channel, Kind, Method

U = 10_000  # minor units per currency unit

ACCOUNTS = """
    account,name,kind,parent
    R1,North Reseller,reseller,
    A1,Agent Alpha,agent,R1
    C1,Acme Trading,customer,A1
    C2,Acme Trading,customer,A1
    C10,Zenith Calls,customer,
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator
    p1,C1,deposit,10.00,2026-10-01T10:00:00+04:00,alice
    p2,C2,deposit,10.00,2026-10-01T11:00:00+04:00,bob.smith
"""


def problems_of(**values) -> list[str]:
    with pytest.raises(FilterError) as caught:
        PaymentFilter.from_parameters(values)
    return caught.value.problems


def test_parameters_as_papermill_or_the_cli_give_them():
    f = PaymentFilter.from_parameters({
        "start": "2026-10-01", "end": date(2026, 10, 31), "timezone": " Asia/Dubai ",
        "accounts": "C1, A1", "include_sub_accounts": "yes", "kinds": ["Deposit", "bonus"],
        "min_amount": "10.5", "max_amount": Decimal("2500"), "operators": ["alice", " alice "],
        "channels": "web,admin", "methods": ["cash"], "text": "  wire  "})
    assert f == PaymentFilter(
        start=date(2026, 10, 1), end=date(2026, 10, 31), timezone="Asia/Dubai", accounts=("C1", "A1"),
        include_sub_accounts=True, kinds=(Kind.DEPOSIT, Kind.BONUS), min_amount=105_000,
        max_amount=2500 * U, operators=("alice",), channels=(Channel.WEB, Channel.ADMIN),
        methods=(Method.CASH,), text="wire")


def test_to_parameters_round_trips_with_money_as_decimal_text():
    f = PaymentFilter(start=date(2026, 10, 1), accounts=("C1",), kinds=(Kind.WITHDRAWAL,),
                      min_amount=12_345, include_sub_accounts=True, text="50%")
    parameters = f.to_parameters()
    assert parameters["min_amount"] == "1.2345" and parameters["max_amount"] is None
    assert parameters["start"] == "2026-10-01" and parameters["kinds"] == ["withdrawal"]
    assert PaymentFilter.from_parameters(parameters) == f
    assert PaymentFilter.from_parameters(PaymentFilter().to_parameters()) == PaymentFilter()


def test_empty_values_do_not_filter():
    f = PaymentFilter.from_parameters({"start": "", "end": None, "accounts": "", "kinds": [],
                                       "min_amount": None, "include_sub_accounts": "", "text": None})
    assert f == PaymentFilter()


@pytest.mark.parametrize("key, blank", [("min_amount", ""), ("max_amount", "  ")])
def test_a_blank_amount_is_refused_not_read_as_no_bound(key, blank):
    """A bound is left out (None) to have none; a blank one is a value lost on the way, as the CLI says too."""
    with pytest.raises(FilterError) as raised:
        PaymentFilter.from_parameters({key: blank})
    assert raised.value.problems == [f"{key}: empty; give a decimal amount such as 100.00 (leave {key} out for no bound)"]


def test_describe_names_every_filter_for_the_filter_sheet():
    rows = dict(PaymentFilter(end=date(2026, 10, 31), kinds=(Kind.BONUS,), max_amount=25 * U).describe())
    assert rows["From (local day)"] == "the beginning" and rows["To (local day, inclusive)"] == "2026-10-31"
    assert rows["Kinds"] == "bonus" and rows["Accounts"] == "all"
    assert rows["Amount at most (absolute)"] == "25.0000" and rows["Time zone"] == "the ledger's"
    assert rows["Currencies"] == "all" and dict(PaymentFilter(currencies=(" jpy", "EUR")).describe())["Currencies"] == (
        "JPY, EUR")
    assert len(rows) == len(dataclasses.fields(PaymentFilter))


@pytest.mark.parametrize("values, expected", [
    ({"start": "2026-10-31", "end": "2026-10-01"}, "start 2026-10-31 is after end 2026-10-01"),
    ({"min_amount": "50", "max_amount": "5"}, "min_amount 50.0000 is above max_amount 5.0000"),
    ({"min_amount": "-1"}, "min_amount: -1.0000 is negative"),
    ({"min_amount": 12.5}, "min_amount: 12.5 is a binary float"),
    ({"max_amount": "12.34567"}, "max_amount: '12.34567' has more than 4 decimal places"),
    ({"kinds": "deposti"}, "kinds: unknown value 'deposti'; use one of: deposit,"),
    ({"channels": ["fax"]}, "channels: unknown value 'fax'"),
    ({"methods": "cheque"}, "methods: unknown value 'cheque'"),
    ({"start": "2026-13-01"}, "start: '2026-13-01' is not a day; give it as YYYY-MM-DD"),
    ({"end": "yesterday"}, "end: 'yesterday' is not a day"),
    ({"timezone": "Mars/Olympus"}, "timezone: time zone 'Mars/Olympus' is unknown"),
    ({"include_sub_accounts": "perhaps"}, "include_sub_accounts: 'perhaps' is not true or false"),
    ({"acounts": "C1"}, "'acounts' is not a filter; did you mean 'accounts'?"),
    ({"accounts": 7}, "accounts: 7 is not a list"),
])
def test_each_bad_parameter_is_named_with_its_fix(values, expected):
    (problem,) = problems_of(**values)
    assert problem.startswith(expected)


def test_every_problem_is_reported_at_once():
    problems = problems_of(kinds="nope", channels="fax", min_amount="x", colour="red",
                           start="2026-10-02", end="2026-10-01")
    assert len(problems) == 5 and problems[-1].startswith("start 2026-10-02 is after end")
    assert str(FilterError(problems)) == "; ".join(problems)


def test_the_constructor_validates_too():
    with pytest.raises(FilterError, match="start 2026-10-02 is after end 2026-10-01"):
        PaymentFilter(start=date(2026, 10, 2), end=date(2026, 10, 1))
    with pytest.raises(FilterError, match="min_amount: '5' is not minor units"):
        PaymentFilter(min_amount="5")
    assert PaymentFilter(kinds=("deposit",)).kinds == (Kind.DEPOSIT,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        PaymentFilter().text = "frozen"  # type: ignore[misc]


def check_problems(engine, f: PaymentFilter) -> list[str]:
    with engine.connect() as connection, pytest.raises(FilterError) as caught:
        f.check(connection)
    return caught.value.problems


def test_check_accepts_known_accounts_and_operators(inline_ledger):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    with engine.connect() as connection:
        PaymentFilter(accounts=("C1", "R1"), operators=("alice",)).check(connection)


def test_unknown_account_suggests_close_account_numbers(inline_ledger):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    case, nothing_like, typo = check_problems(engine, PaymentFilter(accounts=("C1", "c10", "Q9", "C11")))
    # 'c10' differs from C10 only in case; 'Q9' resembles nothing; 'C11' is closest to C1, then C10
    assert case.startswith("account 'c10' is not in the ledger; did you mean C10 — Zenith Calls (customer)")
    assert nothing_like == "account 'Q9' is not in the ledger; give an account number as the ledger lists it"
    assert typo == ("account 'C11' is not in the ledger; did you mean C1 — Acme Trading (customer); "
                    "C10 — Zenith Calls (customer)?")


def test_a_name_given_as_account_says_which_numbers_carry_it(inline_ledger):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    (problem,) = check_problems(engine, PaymentFilter(accounts=("acme trading",)))
    assert problem == ("account 'acme trading' is a name, not an account number; it is the name of "
                       "C1 — Acme Trading (customer); C2 — Acme Trading (customer): give the account "
                       "number (names are not unique)")
    (problem,) = check_problems(engine, PaymentFilter(accounts=("Zenit Calls",)))
    assert "did you mean C10 — Zenith Calls (customer)" in problem


def test_unknown_operator_suggests_the_ones_that_recorded_payments(inline_ledger):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    problems = check_problems(engine, PaymentFilter(operators=("bob.smit", "zed"), accounts=("A2",)))
    # one character of two wrong: A1 and C2 are equally near, in account order
    assert problems[0] == ("account 'A2' is not in the ledger; did you mean A1 — Agent Alpha (agent); "
                           "C2 — Acme Trading (customer)?")
    assert problems[1] == "operator 'bob.smit' has recorded no payment in this ledger; did you mean bob.smith?"
    assert problems[2] == ("operator 'zed' has recorded no payment in this ledger; "
                           "known operators: alice, bob.smith")


def test_a_text_a_search_cannot_match_exactly_is_refused_by_name():
    """SQL's LIKE ends a pattern at a NUL ('\\x00abc' matched every record) and refuses very long ones: such a text
    is refused with its fix, from code, from parameters (papermill, a saved view, a Voilà URL) and from the CLI's."""
    for given in ("\x00abc", "refund\x00", "\x00"):
        with pytest.raises(FilterError, match="text: holds a NUL character"):
            PaymentFilter(text=given)
        with pytest.raises(FilterError, match="text: holds a NUL character"):
            PaymentFilter.from_parameters({"text": given})
    with pytest.raises(FilterError, match="1,001 characters; a search text holds at most 1,000"):
        PaymentFilter(text="a" * 1_001)
    assert PaymentFilter(text=" " + "a" * 1_000 + " ").text == "a" * 1_000
