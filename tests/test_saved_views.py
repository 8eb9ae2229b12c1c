"""Saved views: YAML files read strictly, shared as URLs, applied by the explorer, remembered per ledger."""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml

from vosbench.analysis import saved_views
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.saved_views import Layout, SavedView, ViewError
from vosbench.core.model import Kind
from vosbench.ui.explore_panel import PaymentExplorer
from vosbench.ui.panel import memory

ACCOUNTS = """
    account,name,kind,parent
    A1,Acme Trading,agent,
    C1,Acme Trading,customer,A1
    C2,Blue Sky Tel,customer,
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
    p1,C1,deposit,100.00,2026-09-10T10:00:00+04:00,omar,admin,cash,R-1,,,
    p2,C1,deposit,1500.50,2026-10-02T09:00:00+04:00,omar,admin,cash,R-2,,,
    p3,C2,deposit,2000.00,2026-10-05T12:00:00+04:00,web,web,gateway,ch_1,,,
    p4,C2,withdrawal,-20.00,2026-10-20T09:00:00+04:00,web,web,gateway,ch_2,refund,,
"""
LARGE_DEPOSITS = SavedView(
    "october-large-deposits",
    PaymentFilter.from_parameters({"start": "2026-10-01", "end": "2026-10-31", "kinds": "deposit",
                                   "min_amount": "1000.00"}),
    Layout(page_size=25, sort="amount", descending=True, columns=("occurred_at", "account", "amount"),
           grain="week", by="channel"),
    "Deposits of 1,000 or more in October")


@pytest.fixture
def engine(inline_ledger):
    return inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)


def test_a_view_is_saved_as_readable_yaml_and_read_back_the_same(tmp_path):
    path = saved_views.save_view(LARGE_DEPOSITS, tmp_path)
    assert path == tmp_path / "october-large-deposits.yaml"
    document = yaml.safe_load(path.read_text())
    assert document["filter"] == {"start": "2026-10-01", "end": "2026-10-31", "kinds": ["deposit"],
                                  "min_amount": "1000.0000"}  # only the fields in use; money as text
    assert saved_views.load_view("october-large-deposits", tmp_path) == LARGE_DEPOSITS
    assert saved_views.list_views(tmp_path) == ["october-large-deposits"]
    assert saved_views.view_filter("october-large-deposits", tmp_path) == LARGE_DEPOSITS.filter


def test_the_shipped_example_views_are_valid():
    names = saved_views.list_views()
    assert names
    for name in names:
        assert saved_views.load_view(name).name == name


@pytest.mark.parametrize("text, expected", [
    ("name: x\nfilter: {kinds: [deposits]}\n", "x.yaml: kinds: unknown value 'deposits'; use one of: deposit"),
    ("name: x\nfilter: {min_amount: 12.5}\n", "x.yaml: min_amount"),
    ("name: x\ncolour: red\n", "x.yaml: 'colour' not known"),
    ("name: x\nlayout: {grain: fortnight}\n", "grain: 'fortnight' is not a grain"),
    ("name: x\nlayout: {columns: [amount, colour]}\n", "columns: colour are not grid columns"),
    ("name: [x\n", "x.yaml is not valid YAML"),
])
def test_a_bad_view_file_names_the_file_the_key_and_the_fix(tmp_path, text, expected):
    (tmp_path / "x.yaml").write_text(text)
    with pytest.raises(ViewError, match=re.escape(expected)):
        saved_views.load_view("x", tmp_path)


def test_a_missing_view_or_a_bad_name_says_what_exists(tmp_path):
    saved_views.save_view(LARGE_DEPOSITS, tmp_path)
    with pytest.raises(ViewError, match="saved views: october-large-deposits"):
        saved_views.load_view("november", tmp_path)
    with pytest.raises(ViewError, match="cannot be used; give 1-80 letters"):
        SavedView("../etc/passwd")


def test_a_view_travels_in_a_url_query_string(tmp_path):
    text = saved_views.query_string(LARGE_DEPOSITS)
    assert text.startswith("view=october-large-deposits&start=2026-10-01")
    assert "min_amount=1000.0000" in text and "grain=week" in text
    shared = saved_views.from_query_string("?" + text, tmp_path)  # no file needed: the link carries the view
    assert (shared.name, shared.filter, shared.layout) == (LARGE_DEPOSITS.name, LARGE_DEPOSITS.filter,
                                                           LARGE_DEPOSITS.layout)
    saved_views.save_view(LARGE_DEPOSITS, tmp_path)
    overridden = saved_views.from_query_string("view=october-large-deposits&kinds=withdrawal&grain=day", tmp_path)
    assert overridden.filter.kinds == (Kind.WITHDRAWAL,) and overridden.layout.grain == "day"
    assert overridden.filter.min_amount == 1000 * 10_000  # the rest comes from the saved view
    assert saved_views.from_query_string("", tmp_path) is None
    with pytest.raises(ViewError, match="'colour' not known"):
        saved_views.from_query_string("colour=red", tmp_path)


def test_the_explorer_saves_opens_and_shares_views(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), views_dir=tmp_path / "views",
                               share_url="http://127.0.0.1:8866/")
    assert explorer.apply_view(LARGE_DEPOSITS)
    assert explorer.current_page.total_count == 2 and explorer.current_page.sort == "amount"
    assert explorer.grid.columns == ["occurred_at", "account", "amount"]
    assert (explorer.trends.grain.value, explorer.trends.by.value) == ("week", "channel")
    assert explorer.trends.shown.grain == "week"
    explorer.views.name.value = "big-october"
    explorer.views.save_button.click()
    saved = saved_views.load_view("big-october", tmp_path / "views")
    assert saved.filter == LARGE_DEPOSITS.filter and saved.layout == LARGE_DEPOSITS.layout
    assert "http://127.0.0.1:8866/?view=big-october&amp;start=2026-10-01" in explorer.views.link.value
    explorer.reset_button.click()
    explorer.views.saved.value = "big-october"
    explorer.views.open_button.click()
    assert explorer.current_filter == LARGE_DEPOSITS.filter


def test_saving_without_a_good_name_is_a_message(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), views_dir=tmp_path)
    explorer.views.name.value = "my view!"
    explorer.views.save_button.click()
    assert "The view was not saved" in explorer.status.value and "cannot be used" in explorer.status.value
    assert saved_views.list_views(tmp_path) == []


def test_the_panel_reopens_on_the_last_filter_queried_on_that_ledger(engine, inline_ledger, tmp_path):
    kept = tmp_path / "memory"
    first = PaymentExplorer(engine, memory_dir=kept)
    assert first.current_filter == PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31))
    first.kinds.value = ("withdrawal",)
    first.query_button.click()
    again = PaymentExplorer(engine, memory_dir=kept)
    assert again.current_filter.kinds == (Kind.WITHDRAWAL,) and again.current_page.total_count == 1
    other = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, name="other")
    assert PaymentExplorer(other, memory_dir=kept).current_filter.kinds == ()  # each ledger its own
    (kept / f"{memory.name_for(engine)}.yaml").write_text("name: [broken\n")
    assert PaymentExplorer(engine, memory_dir=kept).current_filter.kinds == ()  # unreadable: ignored


def test_enter_in_a_text_box_runs_the_query(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=PaymentFilter())
    explorer.text.value = "refund"
    explorer.text._handle_custom_msg({"event": "submit"}, [])  # what the browser sends on Enter
    assert explorer.current_filter.text == "refund" and explorer.current_page.total_count == 1
