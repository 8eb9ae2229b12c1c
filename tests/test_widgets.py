"""The payment explorer driven in plain pytest: set widget values, click, read the model state.

Two ledgers. A hand-built one in Asia/Dubai (UTC+4) whose numbers are worked out below,
and the small demo ledger (393 records over 2026-07..2026-10) for paging, exports and the
planted "balance did not update" deposit.

Hand-built ledger — tree R1 → A1 → {C1, C2}; C3 has no parent. A1 and C1 share the
name "Acme Trading" on purpose.

    id  account kind        amount   local time         channel/method  reported balance_after
    p1  C1      deposit     100.00   2026-09-10 10:00   admin/cash      100.00
    p2  C1      deposit      50.50   2026-10-02 09:00   admin/cash      140.50  (100 − 10 charges of Sep 20 + 50.50)
    p3  C2      deposit     200.00   2026-10-05 12:00   web/gateway     200.00
    p4  C2      withdrawal  −20.00   2026-10-20 09:00   web/gateway     180.00
    p5  C3      bonus         5.0001 2026-10-21 10:00   admin/cash        5.0001
    p7  C1      adjustment   −3.00   2026-10-25 10:00   admin/cash      232.50  (should be 132.50: 140.50 − 5 − 3)
    p6  A1      commission    7.25   2026-10-31 10:00   admin/other       7.25
C1 charges: 10.00 on 2026-09-20, 5.00 on 2026-10-15.

October 2026 (6 records): deposit 2 / 250.50; withdrawal 1 / −20.00; adjustment 1 / −3.00;
bonus 1 / 5.0001; commission 1 / 7.25 — total 250.50 − 20 − 3 + 5.0001 + 7.25 = 239.7501.
"""

from __future__ import annotations

import html
import json
import sqlite3
import threading
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from vosbench.analysis import explore, payment_columns
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.ledger import database, setup
from vosbench.outputs import query_export
from vosbench.sources.demo import DemoScale, answer_key, build_demo
from vosbench.ui.explore_panel import PaymentExplorer
from vosbench.ui.finance_dashboard import FinanceDashboard
from vosbench.ui.panel import column_build, grid, markup
from vosbench.ui.unopened import Unopened

U = 10_000  # minor units per currency unit

ACCOUNTS = """
    account,name,kind,parent
    R1,Gulf Reseller,reseller,
    A1,Acme Trading,agent,R1
    C1,Acme Trading,customer,A1
    C2,Blue Sky Tel,customer,A1
    C3,Cedar Voice,customer,
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
    p1,C1,deposit,100.00,2026-09-10T10:00:00+04:00,omar,admin,cash,R-1,,,100.00
    p2,C1,deposit,50.50,2026-10-02T09:00:00+04:00,omar,admin,cash,R-2,,,140.50
    p3,C2,deposit,200.00,2026-10-05T12:00:00+04:00,web,web,gateway,ch_1,portal top-up,,200.00
    p4,C2,withdrawal,-20.00,2026-10-20T09:00:00+04:00,web,web,gateway,ch_2,refund,,180.00
    p5,C3,bonus,5.0001,2026-10-21T10:00:00+04:00,lina,admin,cash,B-1,,,5.0001
    p7,C1,adjustment,-3.00,2026-10-25T10:00:00+04:00,lina,admin,cash,ADJ-1,,rounding,232.50
    p6,A1,commission,7.25,2026-10-31T10:00:00+04:00,system,admin,other,COM-1,,,7.25
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-20,10.00,0,0,3
    C1,2026-10-15,5.00,0,0,2
"""


@pytest.fixture
def hand(inline_ledger, tmp_path):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)
    return PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path / "exports")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("explorer") / "ledger.sqlite"
    build_demo(f"sqlite:///{path}", DemoScale(resellers=1, agents=2, customers=40, months=4), progress=False)
    return setup.open_ledger(f"sqlite:///{path}"), path


def october(explorer: PaymentExplorer) -> None:
    explorer.start.value, explorer.end.value = date(2026, 10, 1), date(2026, 10, 31)


def kinds_of(page) -> dict[str, tuple[int, int]]:
    return {row.kind: (int(row.count), int(row.amount)) for row in page.totals_by_kind.itertuples()}


def text(widget) -> str:
    """What an HTML widget reads as (entities decoded)."""
    return html.unescape(widget.value)


def raw(path, sql: str, *params):
    """Ask the SQLite file directly, bypassing vosbench, for an independent expectation."""
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, params).fetchall()


# --- the hand-built ledger: filters, totals, charts, statement ---------------------------------

def test_october_totals_per_kind_are_for_the_whole_filter(hand):
    october(hand)
    hand.page_size.value = 25
    hand.query_button.click()
    page = hand.current_page
    assert page.total_count == 6
    assert kinds_of(page) == {"deposit": (2, 250_5000), "withdrawal": (1, -20 * U), "adjustment": (1, -3 * U),
                              "bonus": (1, 5_0001), "commission": (1, 7_2500)}
    assert "239.75" in hand.totals.value and ">6<" in hand.totals.value  # the Total row: amount and count
    assert hand.current_filter == PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert "6 payment records match" in hand.status.value


def test_charts_plot_the_filters_sums(hand):
    october(hand)
    hand.query_button.click()
    monthly = hand.charts.figures["monthly"]
    amounts = {trace.name: list(trace.y) for trace in monthly.data if trace.yaxis == "y"}
    counts = {trace.name: list(trace.y) for trace in monthly.data if trace.yaxis == "y2"}
    assert amounts == {"deposit": [Decimal("250.5000")], "withdrawal": [Decimal("-20.0000")],
                       "adjustment": [Decimal("-3.0000")], "bonus": [Decimal("5.0001")],
                       "commission": [Decimal("7.2500")]}
    assert counts == {"deposit": [2], "withdrawal": [1], "adjustment": [1], "bonus": [1], "commission": [1]}
    # admin/cash: 50.50 − 3.00 + 5.0001 = 52.5001 (3 records); admin/other 7.25; web/gateway 200 − 20 = 180
    channels = {trace.name: dict(zip(trace.x, trace.y)) for trace in hand.charts.figures["channels"].data}
    assert channels["cash"]["admin"] == Decimal("52.5001") and channels["gateway"]["web"] == Decimal("180.0000")
    assert channels["other"]["admin"] == Decimal("7.2500")
    # moved (sum of |amount|): C2 220, C1 53.50, A1 7.25, C3 5.0001 — bars drawn largest on top (last)
    top = hand.charts.figures["top-accounts"].data[0]
    assert [label.split(" · ")[0] for label in top.y] == ["C3", "A1", "C1", "C2"]
    assert list(top.x) == [Decimal("5.0001"), Decimal("7.2500"), Decimal("47.5000"), Decimal("180.0000")]
    shown = hand.charts.outputs["monthly"].outputs[0]["data"]["application/vnd.plotly.v1+json"]
    assert {trace["name"] for trace in shown["data"]} == set(amounts)  # what the browser receives


def test_a_kind_and_an_amount_range(hand):
    hand.kinds.value = ("deposit", "withdrawal")
    hand.min_amount.value, hand.max_amount.value = "20", "100.00"
    hand.query_button.click()
    # |amount| in [20, 100]: p1 100.00, p2 50.50, p4 −20.00; p3 (200) is above the range
    assert sorted(hand.current_page.rows["id"]) == [1, 2, 4]
    assert hand.current_filter.min_amount == 20 * U and hand.current_filter.max_amount == 100 * U


def test_text_search_channel_method_and_operator(hand):
    hand.text.value = "PORTAL"
    hand.query_button.click()
    assert list(hand.current_page.rows["reference"]) == ["ch_1"]
    hand.text.value = ""
    hand.channels.value, hand.methods.value, hand.operator.value = ("admin",), ("cash",), ("lina",)
    hand.query_button.click()
    assert list(hand.current_page.rows["reference"]) == ["ADJ-1", "B-1"]  # newest first


def test_a_unique_name_resolves_to_its_account_number(hand):
    hand.account.value = "blue sky tel"
    hand.query_button.click()
    assert hand.current_filter.accounts == ("C2",)
    assert hand.account.value == "C2 — Blue Sky Tel (customer)"  # the box now shows which account it was
    assert hand.current_page.total_count == 2


def test_a_shared_name_is_refused_naming_every_account_number(hand):
    before = hand.current_page
    hand.account.value = "Acme Trading"
    assert hand.query() is False
    assert "A1 — Acme Trading (agent)" in text(hand.status) and "C1 — Acme Trading (customer)" in text(hand.status)
    assert hand.current_page is before and hand.current_filter == PaymentFilter()


def test_a_label_from_the_completion_list_and_the_sub_accounts(hand):
    assert "A1 — Acme Trading (agent)" in hand.account.options
    hand.account.value = "A1 — Acme Trading (agent)"
    hand.query_button.click()
    assert list(hand.current_page.rows["reference"]) == ["COM-1"]
    hand.include_sub_accounts.value = True
    hand.query_button.click()
    # A1 and everything below it (C1, C2): every record but C3's bonus
    assert hand.current_page.total_count == 6 and "C3" not in set(hand.current_page.rows["account"])


@pytest.mark.parametrize("change, expected", [
    (dict(start=date(2026, 10, 31), end=date(2026, 10, 1)), "is after end 2026-10-01"),
    (dict(account="C11"), "account 'C11' is not in the ledger; did you mean C1 — Acme Trading (customer)"),
    (dict(min_amount="500", max_amount="20"), "min_amount 500.0000 is above max_amount 20.0000"),
    (dict(min_amount="12.345678"), "'12.345678' has more than 4 decimal places"),
    (dict(max_amount="ten"), "max_amount: 'ten' is not a number"),
])
def test_bad_input_is_a_message_in_the_panel_not_an_exception(hand, change, expected):
    grid_before = hand.grid.table.data.copy()
    for name, value in change.items():
        getattr(hand, name).value = value
    hand.query_button.click()  # must not raise
    assert expected in text(hand.status) and "vosbench-error" in hand.status.value
    assert hand.grid.table.data.equals(grid_before) and hand.current_filter == PaymentFilter()
    assert not hand.query_button.disabled and hand.busy.layout.display == "none"


def test_an_unexpected_failure_is_reported_too(hand, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(explore, "query_page", broken)
    assert hand.query() is False
    assert "RuntimeError: database went away" in text(hand.status)


def test_the_busy_indicator_shows_while_a_query_runs(hand, monkeypatch):
    seen = []
    real = explore.query_page

    def watched(*args, **kwargs):
        seen.append((hand.busy.layout.display, hand.query_button.disabled))
        return real(*args, **kwargs)

    monkeypatch.setattr(explore, "query_page", watched)
    hand.query_button.click()
    assert seen == [("inline-flex", True)]
    assert (hand.busy.layout.display, hand.query_button.disabled) == ("none", False)


def test_no_results_says_so(hand):
    hand.text.value = "no such reference"
    hand.query_button.click()
    assert hand.current_page.total_count == 0
    assert "No payment records match" in hand.grid.message.value and "lower the amount range" in hand.grid.message.value
    assert hand.grid.table.layout.display == "none" and hand.grid.caption.value == ""
    note = hand.charts.figures["monthly"].layout.annotations[-1].text
    assert note.startswith("No payment records match the filter") and "widen the dates" in note


def test_statement_shows_the_running_balance_and_the_disagreeing_report(hand):
    october(hand)
    hand.account.value = "C1"
    hand.query_button.click()
    assert hand.statement.account.value == "C1"
    hand.statement.show_button.click()
    shown = hand.statement.statement
    # opening at Oct 1 00:00: 100.00 − 10.00 (Sep 20 charges) = 90.00
    # p2 +50.50 → 140.50; Oct 15 charges −5.00 → 135.50; p7 −3.00 → 132.50 (reported 232.50)
    assert (shown.opening, shown.closing) == (90 * U, 132_5000)
    assert list(shown.lines["running_balance"]) == [140_5000, 135_5000, 132_5000]
    assert list(shown.discrepancies["payment_id"]) == [6] and int(shown.discrepancies["discrepancy"][0]) == 100 * U
    page = hand.statement.html.value
    assert "Opening balance <b>90.00</b>" in page and "closing balance <b>132.50</b>" in page
    assert "1 records whose reported balance_after disagrees" in page
    assert markup._DISCREPANCY_STYLE.split(";")[0] in page  # the disagreeing line is highlighted


def test_reset_returns_to_the_filter_the_panel_opened_with(inline_ledger, tmp_path):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)
    initial = PaymentFilter.from_parameters({"kinds": "deposit", "min_amount": "60"})
    explorer = PaymentExplorer(engine, initial=initial, export_dir=tmp_path)
    assert explorer.kinds.value == ("deposit",) and explorer.min_amount.value == "60.00"
    assert explorer.current_page.total_count == 2  # p1 100.00 and p3 200.00
    explorer.kinds.value, explorer.min_amount.value = (), ""
    explorer.query_button.click()
    assert explorer.current_page.total_count == 7
    explorer.reset_button.click()
    assert explorer.current_filter == initial and explorer.current_page.total_count == 2
    assert explorer.kinds.value == ("deposit",) and explorer.min_amount.value == "60.00"


# --- the demo ledger: paging, sorting, the planted anomaly, exports ---------------------------

def test_the_panel_opens_on_the_latest_month_and_reset_returns_to_it(demo, tmp_path):
    engine, path = demo
    explorer = PaymentExplorer(engine, export_dir=tmp_path)
    # the demo ends in 2026-10 (Asia/Dubai): its last record is in October's local days
    assert explorer.current_filter == PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31))
    (in_october,), = raw(path, "SELECT count(*) FROM payments WHERE occurred_at >= '2026-09-30 20:00:00' "
                               "AND occurred_at < '2026-10-31 20:00:00'")
    assert explorer.current_page.total_count == in_october > 0
    explorer.start.value = None
    explorer.query_button.click()
    assert explorer.current_page.total_count > in_october
    explorer.reset_button.click()
    assert explorer.current_page.total_count == in_october


def test_an_empty_ledger_opens_on_an_empty_filter(tmp_path):
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'empty.sqlite'}", create=True)
    assert PaymentFilter(timezone="UTC").is_empty and not PaymentFilter(text="x").is_empty
    explorer = PaymentExplorer(engine, export_dir=tmp_path)
    assert explorer.current_filter == PaymentFilter() and explorer.current_page.total_count == 0


def test_paging_walks_every_record_once_in_a_stable_order(demo, tmp_path):
    engine, path = demo
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path)
    explorer.page_size.value = 100
    (total,), = raw(path, "SELECT count(*) FROM payments")
    assert explorer.current_page.total_count == total and explorer.current_page.pages == -(-total // 100)
    assert explorer.prev_button.disabled and not explorer.next_button.disabled
    seen = list(explorer.current_page.rows["id"])
    while not explorer.next_button.disabled:
        explorer.next_button.click()
        seen += list(explorer.current_page.rows["id"])
    expected = [row[0] for row in raw(path, "SELECT id FROM payments ORDER BY occurred_at DESC, id DESC")]
    assert seen == expected
    assert f"Page {explorer.current_page.pages} of {explorer.current_page.pages}" in explorer.page_label.value
    explorer.prev_button.click()
    assert explorer.current_page.page == explorer.current_page.pages - 1


def test_sorting_by_amount_either_way(demo, tmp_path):
    engine, path = demo
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path)
    explorer.sort_by.value = "amount"
    (largest, smallest), = raw(path, "SELECT max(amount), min(amount) FROM payments")
    assert int(explorer.current_page.rows["amount"].iloc[0]) == largest
    explorer.sort_direction.value = False
    assert int(explorer.current_page.rows["amount"].iloc[0]) == smallest
    assert "sorted by amount ascending" in explorer.grid.caption.value


def test_the_planted_deposit_that_did_not_update_the_balance_stands_out(demo, tmp_path):
    engine, path = demo
    planted = next(a for a in answer_key(engine)["anomalies"] if a["kind"] == "balance_not_updated")
    explorer = PaymentExplorer(engine, export_dir=tmp_path)
    october(explorer)
    explorer.account.value = planted["account"]
    explorer.query_button.click()
    explorer.statement.show_button.click()
    shown = explorer.statement.statement
    assert shown.discrepancies["payment_id"].iloc[0] == planted["payment_ids"][0]
    (closing,), = raw(path, "SELECT m.closing FROM account_months m JOIN accounts a ON a.id = m.account_id "
                            "WHERE a.account = ? AND m.month = '2026-10'", planted["account"])
    assert shown.closing == closing  # the kept month-end closing: payments − charges so far
    assert f"payment {planted['payment_ids'][0]}" in explorer.statement.html.value


def test_exports_hold_every_page_and_the_filter(demo, tmp_path, monkeypatch):
    engine, path = demo
    monkeypatch.chdir(tmp_path)
    explorer = PaymentExplorer(engine, initial=PaymentFilter())  # default export_dir: ./exports
    explorer.kinds.value = ("deposit",)
    explorer.page_size.value = 25
    explorer.query_button.click()
    (deposits, deposited), = raw(path, "SELECT count(*), sum(amount) FROM payments WHERE kind = 'deposit'")
    assert explorer.current_page.total_count == deposits > 25  # more than the visible page

    explorer.exports.xlsx_button.click()
    written = explorer.exports.written
    assert written.resolve().parent == tmp_path / "exports" and written.suffix == ".xlsx"
    assert f"href='exports/{written.name}'" in explorer.exports.link.value
    book = openpyxl.load_workbook(written)
    payments = list(book["Payments"].iter_rows(values_only=True))
    assert payments[0][:6] == ("id", "occurred_at (Asia/Dubai)", "account", "name", "kind", "amount")
    records = [row for row in payments[1:] if isinstance(row[0], int)]
    assert len(records) == deposits and {row[4] for row in records} == {"deposit"}
    assert sum(Decimal(str(row[5])) for row in records) == Decimal(deposited) / U  # xlsx numbers read back as doubles
    described = dict(row for row in book["Filter"].iter_rows(min_row=2, values_only=True))
    assert described["Kinds"] == "deposit" and described["From (local day)"] == "the beginning"

    explorer.exports.csv_button.click()
    text = explorer.exports.written.read_text(encoding="utf-8")
    assert text.startswith("id,") and "Kinds,deposit\n" in query_export.filter_file(explorer.exports.written).read_text()
    frame = pd.read_csv(explorer.exports.written, dtype=str)
    assert len(frame) == deposits and sum(Decimal(v) for v in frame["amount"]) == Decimal(deposited) / U
    assert explorer.exports.written != written  # a second export never overwrites the first


def test_the_notebook_passes_every_filter_field_through_from_parameters():
    from dataclasses import fields
    from pathlib import Path

    notebook = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "explore_payments.ipynb").read_text())
    parameters = next(cell for cell in notebook["cells"] if "parameters" in cell["metadata"].get("tags", []))
    names = {line.split("=")[0].strip() for line in "".join(parameters["source"]).splitlines()
             if "=" in line and not line.startswith("#")}
    assert names == {field.name for field in fields(PaymentFilter)} | {"db_url", "export_dir", "view", "views_dir",
                                                                       "remember"}
    assert all(not cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")


# --- the grid: cells, header clicks, row clicks, columns ---------------------------------------

def test_the_grid_shows_exact_money_right_aligned_in_each_currencys_places(hand):
    shown = hand.grid.table.data
    bonus = shown[shown["kind"] == "bonus"]
    assert list(bonus["amount"]) == ["5.0001"] and list(bonus["balance after"]) == ["5.0001"]  # every place it has
    assert "-20.00" in list(shown["amount"]) and "-20.0000" not in list(shown["amount"])
    assert set(hand.grid.table.renderers) == {"amount", "balance after"}
    assert hand.grid.table.renderers["amount"].horizontal_alignment == "right"
    assert hand.grid.table.base_row_size == 22
    assert list(shown.index) == [1, 2, 3, 4, 5, 6, 7]  # the record's place in the whole result


def test_grid_cells_show_yen_whole_dinars_to_three_places_and_never_round_a_finer_amount():
    rows = pd.DataFrame({"kind": ["deposit"] * 4, "amount": pd.array([50_000_000, 15_000, 12_345, 1], dtype="Int64"),
                         "balance_after": pd.array([None, 15_000, 10_000_000_000, 1], dtype="Int64"),
                         "currency": ["JPY", "KWD", "USD", "JPY"]})
    shown = grid.cell_text(rows)
    assert list(shown["amount"]) == ["5,000", "1.500", "1.2345", "0.0001"]
    assert list(shown["balance_after"]) == ["", "1.500", "1,000,000.00", "0.0001"]


def test_a_header_click_sorts_the_whole_result_in_the_ledger_and_a_second_click_flips_it(demo, tmp_path):
    engine, path = demo
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path)
    explorer.page_size.value = 25
    queries = []
    explorer.grid.on_sort = lambda column, descending: queries.append(column) or explorer.sort_by_column(
        column, descending)
    amount = explorer.grid.columns.index("amount")
    explorer.grid._clicked({"region": "column-header", "column_index": amount, "row": 0})
    (largest, smallest), = raw(path, "SELECT max(amount), min(amount) FROM payments")
    assert queries == ["amount"] and explorer.current_page.sort == "amount" and explorer.current_page.descending
    assert int(explorer.current_page.rows["amount"].iloc[0]) == largest  # the largest of all 393, not of a page
    assert "amount ▼" in explorer.grid.table.data.columns
    explorer.grid._clicked({"region": "column-header", "column_index": amount, "row": 0})
    assert int(explorer.current_page.rows["amount"].iloc[0]) == smallest
    assert (explorer.sort_by.value, explorer.sort_direction.value) == ("amount", False)  # the dropdowns follow
    name = explorer.grid.columns.index("name")
    explorer.grid._clicked({"region": "column-header", "column_index": name, "row": 0})
    assert explorer.current_page.sort == "name" and not explorer.current_page.descending  # text starts at A
    assert queries == ["amount", "amount", "name"]


def test_the_grids_own_sort_menu_asks_the_ledger_and_leaves_no_local_sort(demo, tmp_path):
    engine, path = demo
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path)
    explorer.grid.table._transforms = [{"type": "sort", "column": "amount", "desc": False}]
    (smallest,), = raw(path, "SELECT min(amount) FROM payments")
    assert explorer.current_page.sort == "amount" and not explorer.current_page.descending
    assert int(explorer.current_page.rows["amount"].iloc[0]) == smallest
    assert explorer.grid.table._transforms == []


def test_a_row_click_opens_that_accounts_statement(hand):
    row = list(hand.current_page.rows["account"]).index("C2")
    hand.grid._clicked({"region": "body", "primary_key_row": row, "column_index": 3, "row": row})
    assert hand.statement.account.value == "C2"
    assert hand.statement.statement.account == "C2"
    assert "Statement of C2 — Blue Sky Tel (customer)" in hand.statement.html.value


def test_columns_can_be_hidden_and_shown_again(hand):
    hand.grid.show_columns(["occurred_at", "account", "amount"])
    assert list(hand.grid.table.data.columns) == ["occurred at ▼", "account", "amount"]
    hand.grid._clicked({"region": "column-header", "column_index": 2, "row": 0})  # now amount's place
    assert hand.current_page.sort == "amount"
    hand.grid.show_columns(["memo", "reference", "id"])
    assert list(hand.grid.table.data.columns) == ["id", "reference", "memo"]  # the ledger's order


def test_the_opening_of_a_link_or_notebook_that_asks_wrongly_keeps_what_is_right_and_says_the_rest(hand, tmp_path):
    from vosbench.ui.panel import views

    engine = hand.engine
    good = views.opening(engine, {"kinds": "deposit"}, "", "min_amount=%2B5&max_amount=NaN", tmp_path)
    assert good.filter == PaymentFilter(kinds=("deposit",)) and good.view is None
    assert "the URL's filter" in good.problem and "NaN" in good.problem
    unknown = views.opening(engine, {}, "nosuch", "", tmp_path)
    assert (unknown.filter, unknown.view) == (None, None) and "nosuch" in unknown.problem
    with pytest.raises(FilterError, match="start: '2026-02-30' is not a day"):  # papermill's parameters: refused
        views.opening(engine, {"start": "2026-02-30"}, "", "kinds=teleport", tmp_path)
    fine = views.opening(engine, {}, "", "start=2026-10-01&end=2026-10-31", tmp_path)
    assert fine.problem == "" and fine.filter is None and fine.view.filter.start.isoformat() == "2026-10-01"


def test_what_was_asked_wrongly_is_said_above_the_results_until_the_next_query(inline_ledger, tmp_path):
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)
    explorer = PaymentExplorer(engine, export_dir=tmp_path, problem="the URL's filter: start: '2026-02-30' is not a day")
    assert "could not be opened" in explorer.notice.value and "2026-02-30" in explorer.notice.value
    assert explorer.current_page is not None and explorer.current_page.total_count > 0  # opened on its usual filter
    assert explorer.query() and explorer.notice.value == ""


# --- a large ledger: the fast columns are built in the background, and the panel says so ------------

@pytest.fixture
def held_build(demo, tmp_path, monkeypatch):
    """The demo ledger counted as large, with its column build held until the test releases it."""
    monkeypatch.setenv("VOSBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(payment_columns, "BACKGROUND_FROM", 100)  # the demo's few hundred records count as large
    monkeypatch.setattr(column_build, "POLL_SECONDS", 0.02)
    release = threading.Event()
    reading = payment_columns._read

    def held(*args):
        assert release.wait(60), "the test never released the build"
        return reading(*args)

    monkeypatch.setattr(payment_columns, "_read", held)
    return release


def test_a_large_ledgers_panel_shows_its_columns_being_built_and_then_ready(demo, held_build, tmp_path):
    engine, path = demo
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path / "exports")
    note = explorer.build_note
    (newest,), = raw(path, "SELECT max(id) FROM payments")
    (count,), = raw(path, "SELECT count(*) FROM payments")
    assert explorer.current_page.total_count == count  # answered by SQL while the build waits
    assert note.layout.layout.display == "flex"
    assert f"0 of about {newest:,} records read" in text(note.label) and note.bar.value == 0

    held_build.set()
    note._follower.join(60)
    assert not note._follower.is_alive()
    assert "Fast answers are ready" in text(note.label)
    assert (note.bar.value, note.bar.bar_style) == (100, "success")
    assert payment_columns.current(engine) is not None
    assert explorer.query() and note.layout.layout.display == "none"  # nothing is being built any more
    assert explorer.current_page.total_count == count


def test_a_build_that_fails_is_said_and_the_panel_keeps_answering(demo, held_build, tmp_path, monkeypatch):
    engine, path = demo

    def broken(*args):
        assert held_build.wait(60)
        raise OSError("No space left on device")

    monkeypatch.setattr(payment_columns, "_read", broken)
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), export_dir=tmp_path / "exports")
    note = explorer.build_note
    held_build.set()
    note._follower.join(60)
    assert "could not be prepared" in text(note.label) and note.bar.bar_style == "warning"
    (count,), = raw(path, "SELECT count(*) FROM payments")
    assert explorer.query() and explorer.current_page.total_count == count


# --- a ledger that cannot be opened: the page says why, no failed cell --------------------------

def _not_a_ledger(tmp_path) -> str:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"minutes of the meeting, not a ledger\n" * 200)
    return f"sqlite:///{path}"


@pytest.mark.parametrize("page", [PaymentExplorer, FinanceDashboard], ids=["explorer", "dashboard"])
@pytest.mark.parametrize("make_url, said", [
    (lambda tmp_path: f"sqlite:///{tmp_path / 'nowhere' / 'ledger.sqlite'}", "no vosbench ledger at sqlite:///"),
    (_not_a_ledger, "the ledger's database refused: file is not a database; check the ledger URL (db_url, else "
                    "VOSBENCH_DB)"),
    (lambda tmp_path: "postgresql+psycopg://clerk@127.0.0.1:1/ledger", "the ledger's database cannot be reached: "),
    (lambda tmp_path: "oracle://clerk@host/ledger", "vosbench keeps a ledger in SQLite, PostgreSQL or MariaDB/MySQL"),
], ids=["missing", "not-a-ledger", "server-down", "unknown-database"])
def test_a_ledger_that_cannot_be_opened_is_said_in_the_page(tmp_path, page, make_url, said):
    shown = page.open(db_url=make_url(tmp_path))
    assert isinstance(shown, Unopened)
    assert said in shown.reason
    message = text(shown.widget)
    assert "cannot be opened: " in message and said in message and "Traceback" not in message


def test_a_ledger_held_by_another_writer_while_it_must_be_upgraded_is_said_busy(demo, tmp_path, monkeypatch):
    """Two pages opening a ledger of an older vosbench: the second waits for the first's upgrade, then says so."""
    _, path = demo
    older = tmp_path / "older.sqlite"
    with sqlite3.connect(path) as source, sqlite3.connect(older) as target:
        source.backup(target)
    with sqlite3.connect(older) as connection:
        connection.execute("UPDATE ledger_meta SET value = '6' WHERE key = 'schema_version'")
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    upgrading = sqlite3.connect(older, isolation_level=None)
    upgrading.execute("BEGIN IMMEDIATE")
    try:
        shown = PaymentExplorer.open(db_url=f"sqlite:///{older}", remember=False)
    finally:
        upgrading.execute("ROLLBACK")
        upgrading.close()
    assert isinstance(shown, Unopened) and shown.reason.startswith("the ledger is busy: another command (an import, "
                                                                   "a close, an upgrade) has held it")
    opened = PaymentExplorer.open(db_url=f"sqlite:///{older}", remember=False, export_dir=str(tmp_path / "exports"))
    assert isinstance(opened, PaymentExplorer) and opened.current_page.total_count > 0  # upgraded once it is free


def test_parameters_given_wrongly_are_still_refused_for_papermill(demo):
    _, path = demo
    with pytest.raises(FilterError, match="max_amount"):
        PaymentExplorer.open(db_url=f"sqlite:///{path}", parameters={"max_amount": ""}, remember=False)
