"""Saved views: YAML files read strictly, shared as URLs, applied by the explorer, remembered per ledger."""

from __future__ import annotations

import errno
import os
import re
from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa
import yaml

from vosbench.analysis import saved_views, shared_views
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.saved_views import Layout, SavedView, ViewError
from vosbench.commands.main import main
from vosbench.core.model import Kind
from vosbench.ledger import identity, verification
from vosbench.outputs import report
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


@pytest.fixture(params=["hard links", "no hard links"])
def views_folder(request, tmp_path, monkeypatch):
    """A folder for view files, on a file system with hard links, or as on one without (FAT, many network shares:
    ``link`` fails with EPERM there; a file system we cannot mount in a test, so ``os.link`` fails as it does)."""
    if request.param == "no hard links":
        def no_link(source, target, **_options):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(source), None, str(target))

        monkeypatch.setattr(os, "link", no_link)
    return tmp_path


def test_a_view_of_the_same_name_is_kept_unless_replacing_it_is_asked_and_two_savers_never_both_win(views_folder):
    import threading


    saved_views.save_view(LARGE_DEPOSITS, views_folder)
    assert saved_views.save_view(LARGE_DEPOSITS, views_folder).is_file()  # the very same view again: no change
    other = replace(LARGE_DEPOSITS, filter=PaymentFilter.from_parameters({"kinds": "auto_recharge"}))
    with pytest.raises(ViewError, match="a different view named 'october-large-deposits' is already saved"):
        saved_views.save_view(other, views_folder)
    assert saved_views.load_view(LARGE_DEPOSITS.name, views_folder) == LARGE_DEPOSITS
    saved_views.save_view(other, views_folder, replace=True)
    assert saved_views.load_view(LARGE_DEPOSITS.name, views_folder) == other
    # eight analysts saving eight different views under one new name at the same moment: one is saved, the
    # others are told, and the file is whole
    views = [SavedView("race", PaymentFilter(min_amount=(n + 1) * 10_000)) for n in range(8)]
    start, outcomes = threading.Barrier(len(views)), []

    def save(view: SavedView) -> None:
        start.wait()
        try:
            saved_views.save_view(view, views_folder)
            outcomes.append(view)
        except ViewError:
            outcomes.append(None)

    threads = [threading.Thread(target=save, args=(view,)) for view in views]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (winner,) = [view for view in outcomes if view is not None]
    assert outcomes.count(None) == 7 and saved_views.load_view("race", views_folder) == winner
    assert sorted(path.name for path in views_folder.iterdir()) == ["october-large-deposits.yaml", "race.yaml"]


@pytest.mark.parametrize("text, expected", [
    ("name: x\nfilter: {kinds: [deposits]}\n", "x.yaml: kinds: unknown value 'deposits'; use one of: deposit"),
    ("name: x\nfilter: {min_amount: 12.5}\n", "x.yaml: filter min_amount is an unquoted YAML value (read as 12.5)"),
    ("name: x\nfilter: {min_amount: ''}\n", "x.yaml: min_amount: empty; give a decimal amount such as 100.00 "
                                             "(leave min_amount out for no bound)"),
    ("name: x\nfilter: {max_amount: '  '}\n", "x.yaml: max_amount: empty"),
    ("name: x\ncolour: red\n", "x.yaml: 'colour' not known"),
    ("name: x\nlayout: {grain: fortnight}\n", "grain: 'fortnight' is not a grain"),
    ("name: x\nlayout: {columns: [amount, colour]}\n", "columns: colour are not grid columns"),
    ("name: [x\n", "x.yaml is not valid YAML"),
])
def test_a_bad_view_file_names_the_file_the_key_and_the_fix(tmp_path, text, expected):
    (tmp_path / "x.yaml").write_text(text)
    with pytest.raises(ViewError, match=re.escape(expected)):
        saved_views.load_view("x", tmp_path)


@pytest.mark.parametrize("query", ["?min_amount=", "?view=x&max_amount=%20", "?kinds=deposit&min_amount=&max_amount=9"])
def test_a_blank_amount_in_a_url_is_refused_not_read_as_no_bound(tmp_path, query):
    with pytest.raises(ViewError, match=r"the URL's filter: (min|max)_amount: empty; give a decimal amount such as 100.00"):
        saved_views.from_query_string(query, tmp_path)


def test_a_missing_view_or_a_bad_name_says_what_exists(tmp_path):
    saved_views.save_view(LARGE_DEPOSITS, tmp_path)
    with pytest.raises(ViewError, match="saved views: october-large-deposits"):
        saved_views.load_view("november", tmp_path)
    missing = tmp_path / "elsewhere" / "nope.yaml"
    with pytest.raises(ViewError, match=re.escape(f"view file {missing} does not exist; give the YAML file of a saved "
                                                  "view, or a view's name (saved views: october-large-deposits)")):
        saved_views.load_view(str(missing), tmp_path)
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


def test_the_explorer_keeps_a_view_of_the_name_typed_unless_replace_is_ticked(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=PaymentFilter(kinds=("deposit",)), views_dir=tmp_path)
    explorer.views.name.value = "mine"
    assert explorer.save_view()
    explorer.kinds.value = ("withdrawal",)
    assert explorer.query() and not explorer.save_view()
    assert "a different view named &#x27;mine&#x27; is already saved" in explorer.status.value
    assert saved_views.load_view("mine", tmp_path).filter.kinds == (Kind.DEPOSIT,)
    explorer.views.replace.value = True
    assert explorer.save_view() and saved_views.load_view("mine", tmp_path).filter.kinds == (Kind.WITHDRAWAL,)
    assert explorer.views.replace.value is False  # asked anew for the next one


def test_enter_in_a_text_box_runs_the_query(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=PaymentFilter())
    explorer.text.value = "refund"
    explorer.text._handle_custom_msg({"event": "submit"}, [])  # what the browser sends on Enter
    assert explorer.current_filter.text == "refund" and explorer.current_page.total_count == 1


# --- views shared in the ledger ----------------------------------------------------------------

def test_a_link_naming_a_view_shared_in_the_ledger_opens_it_in_the_explorer(engine, tmp_path):
    """``?view=NAME`` and ``?view=ledger:NAME`` find a view the team shared, as `vosbench audit --view` does; a
    file of the folder of the same name goes first, and a link carrying the whole view opens anywhere."""
    from vosbench.ui.panel import views

    identity.register(engine, "nadia", "auditor")
    shared_views.share(engine, LARGE_DEPOSITS, saved_by="nadia")
    for query in (f"view={LARGE_DEPOSITS.name}", f"view=ledger:{LARGE_DEPOSITS.name}"):
        opened = views.opening(engine, {}, "", query, tmp_path)
        assert (opened.problem, opened.view) == ("", LARGE_DEPOSITS), query
    assert views.opening(engine, {}, LARGE_DEPOSITS.name, "", tmp_path).view == LARGE_DEPOSITS  # papermill's view=
    narrowed = views.opening(engine, {}, "", f"view={LARGE_DEPOSITS.name}&kinds=withdrawal", tmp_path).view
    assert narrowed.filter.kinds == ("withdrawal",) and narrowed.filter.min_amount == LARGE_DEPOSITS.filter.min_amount
    missing = views.opening(engine, {}, "", "view=ledger:nobody-shared-this", tmp_path)
    assert missing.view is None and "no view named 'nobody-shared-this' is shared in this ledger" in missing.problem
    assert views.opening(engine, {}, "", saved_views.query_string(SavedView("elsewhere", LARGE_DEPOSITS.filter)),
                         tmp_path).view.filter == LARGE_DEPOSITS.filter


def test_a_view_shared_in_the_ledger_is_versioned_with_who_and_when(engine):
    identity.register(engine, "nadia", "auditor")
    first = shared_views.share(engine, LARGE_DEPOSITS, saved_by="nadia")
    wider = SavedView(LARGE_DEPOSITS.name, PaymentFilter.from_parameters({"kinds": "deposit"}), Layout(),
                      "every deposit")
    second = shared_views.share(engine, wider, saved_by="nadia")
    with engine.connect() as connection:
        assert shared_views.latest(connection)[LARGE_DEPOSITS.name].view == wider  # the latest version counts
        versions = shared_views.history(connection, LARGE_DEPOSITS.name)
        assert [v.version_id for v in versions] == [first.version_id, second.version_id]
        assert [first.number, second.number] == [v.number for v in versions] == [1, 2]
        assert shared_views.latest(connection)[LARGE_DEPOSITS.name].number == 2
        assert [v.saved_by for v in versions] == ["nadia", "nadia"] and versions[0].view == LARGE_DEPOSITS
        assert shared_views.find(LARGE_DEPOSITS.name, connection) == wider
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # the table is guarded like every audit table
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE saved_views SET saved_by = 'someone'"))
    assert verification.verify(engine).ok


def test_sharing_needs_a_registered_operator(engine):
    with pytest.raises(identity.IdentityError, match="not registered"):
        shared_views.share(engine, LARGE_DEPOSITS, saved_by="ghost")
    with pytest.raises(identity.IdentityError, match=r"operator is required: say who shares a view \(--by LOGIN"):
        shared_views.share(engine, LARGE_DEPOSITS, saved_by="")


def test_views_commands_save_list_and_show(engine, tmp_path, capsys):
    url = str(engine.url)
    identity.register(engine, "nadia", "auditor")
    path = saved_views.save_view(LARGE_DEPOSITS, tmp_path)
    assert main(["views", "save", str(path), "--by", "nadia", "--db", url]) == 0
    small = ["views", "save", "small-withdrawals", "--query", "kinds=withdrawal&max_amount=50", "--by", "nadia",
             "--db", url]
    capsys.readouterr()
    assert main(small) == 0  # the second view saved in the ledger, but this view's first version
    assert capsys.readouterr().out.strip() == "view small-withdrawals shared in the ledger (version 1, by nadia)"
    assert main(["views", "list", "--db", url, "--folder", str(tmp_path / "none")]) == 0
    listed = capsys.readouterr().out
    assert "october-large-deposits  (shared in the ledger by nadia" in listed and "small-withdrawals" in listed
    assert main(["views", "show", "small-withdrawals", "--db", url]) == 0
    shown = capsys.readouterr().out
    assert "max_amount: '50.0000'" in shown and "panel link: ?view=small-withdrawals" in shown
    assert "version 1: saved by nadia" in shown and "version 2" not in shown
    assert main(small) == 0
    assert "(version 2, by nadia)" in capsys.readouterr().out
    assert main(["views", "show", "nowhere", "--db", url]) == 2
    assert "view 'nowhere' is not saved" in capsys.readouterr().err
    assert main(["views", "save", "x", "--query", "colour=red", "--by", "nadia", "--db", url]) == 2


def test_a_shared_view_row_vosbench_never_wrote_leaves_the_other_views_usable(engine, tmp_path, capsys):
    """A row appended to the append-only saved_views by plain SQL (not YAML, or YAML of no view) stopped `views list`
    for every login; now its name is left out with a warning naming what is wrong, the other views list and open,
    and opening that one says why. Sharing it again makes a readable latest version."""
    url = str(engine.url)
    identity.register(engine, "nadia", "auditor")
    shared_views.share(engine, LARGE_DEPOSITS, saved_by="nadia")
    with engine.begin() as connection:
        for name, document in (("month-end", "name: [x"), ("odd", "name: odd\nfilter: {kinds: [deposits]}\n")):
            connection.execute(sa.text("INSERT INTO saved_views (name, document, saved_by, saved_at) "
                                       "VALUES (:name, :document, 'nadia', '2026-11-01 00:00:00.000000')"),
                               {"name": name, "document": document})
    capsys.readouterr()
    assert main(["views", "list", "--db", url, "--folder", str(tmp_path / "none")]) == 0
    out, err = capsys.readouterr()
    assert "october-large-deposits  (shared in the ledger by nadia" in out and "month-end" not in out
    assert "warning: shared view 'month-end' (version" in err and "is not valid YAML" in err
    assert "warning: shared view 'odd'" in err and "kinds: unknown value 'deposits'" in err
    with engine.connect() as connection:
        assert shared_views.find(LARGE_DEPOSITS.name, connection, tmp_path / "none") == LARGE_DEPOSITS
        with pytest.raises(ViewError, match="shared view 'month-end' .* is not valid YAML"):
            shared_views.find("month-end", connection, tmp_path / "none")
    shared_views.share(engine, SavedView("month-end", LARGE_DEPOSITS.filter, Layout(), ""), saved_by="nadia")
    with engine.connect() as connection:
        assert "month-end" in shared_views.latest(connection)


# --- views as the scope of reports (the real notebooks, through papermill) -----------------------

def _sheet(path, name) -> list[tuple]:
    import openpyxl

    return [row for row in openpyxl.load_workbook(path, read_only=True)[name].iter_rows(values_only=True)]


def test_an_audit_scoped_by_a_view_file_counts_only_its_records_and_says_so(engine, tmp_path):
    path = saved_views.save_view(LARGE_DEPOSITS, tmp_path / "views")
    outputs = report.run_audit(None, view=str(path), out_dir=tmp_path / "reports", db_url=str(engine.url),
                               overrides={"write_png": "false"}, progress=False)
    assert outputs.month == "2026-10"  # the view's own month
    assert outputs.folder == (tmp_path / "reports" / "2026-10" / "view-october-large-deposits").resolve()
    html = outputs.html.read_text()
    assert "Monthly audit 2026-10 — view october-large-deposits" in html
    assert "Scoped by saved view october-large-deposits" in html
    filter_rows = _sheet(outputs.xlsx, "Filter")
    assert ("Saved view", "october-large-deposits") in filter_rows and ("Kinds", "deposit") in filter_rows
    movements = [row for row in _sheet(outputs.xlsx, "Movements") if row[0] == "kind" and row[3]]
    assert [(row[2], row[3]) for row in movements] == [("deposit", 2)]  # p2 and p3; not p1 (Sept) nor p4


def test_a_summary_scoped_by_a_view_shared_in_the_ledger(engine, tmp_path):
    identity.register(engine, "nadia", "auditor")
    agent_view = SavedView("acme-deposits", PaymentFilter.from_parameters(
        {"accounts": "A1", "include_sub_accounts": True, "kinds": "deposit"}), Layout(), "Acme's deposits")
    shared_views.share(engine, agent_view, saved_by="nadia")
    outputs = report.run_summary("2026-10", view="acme-deposits", out_dir=tmp_path / "pack",
                                 db_url=str(engine.url), progress=False)
    assert "Finance summary 2026-10 — view acme-deposits" in outputs.html.read_text()
    xlsx = next(path for path in outputs.files if path.suffix == ".xlsx")
    assert ("Saved view", "acme-deposits") in _sheet(xlsx, "Filter")
    cash = [row for row in _sheet(xlsx, "Cash by kind") if row[1] in ("deposit", "withdrawal")]
    assert [(row[1], row[2]) for row in cash] == [("deposit", 1), ("withdrawal", 0)]  # C1's p2 only


def test_a_views_description_is_text_in_the_audit_never_markup_that_runs(engine, tmp_path):
    """Any clerk may share a view; its description lands in the report auditors open in a browser."""
    identity.register(engine, "nadia", "clerk")
    shared_views.share(engine, replace(LARGE_DEPOSITS, name="shared-one",
                                       description="<b>bold</b><script>alert(2)</script>"), saved_by="nadia")
    outputs = report.run_audit(None, view="ledger:shared-one", out_dir=tmp_path / "reports", db_url=str(engine.url),
                               overrides={"write_png": "false", "write_xlsx": "false"}, progress=False)
    html = outputs.html.read_text()
    assert "<script>alert(2)" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert outputs.folder.name == "view-ledger-shared-one"  # no colon in a folder's name


def test_papermill_runs_the_audit_notebook_with_a_view_parameter(engine, tmp_path, monkeypatch):
    import papermill

    path = saved_views.save_view(LARGE_DEPOSITS, tmp_path / "views")
    monkeypatch.setenv("VOSBENCH_DB", str(engine.url))
    executed = papermill.execute_notebook(str(report.NOTEBOOK), str(tmp_path / "out.ipynb"), progress_bar=False,
                                          parameters={"month": "2026-10", "view": str(path), "write_png": False,
                                                      "write_xlsx": False}, cwd=str(tmp_path))
    introduction = "".join(output.get("data", {}).get("text/markdown", "")
                           for output in executed.cells[2].outputs)
    assert "Monthly audit 2026-10 — view october-large-deposits" in introduction


@pytest.mark.parametrize("month, view, expected", [
    ("2026-09", "october-large-deposits", "outside 2026-09; report a month inside the view"),
    (None, "large-deposits", "does not lie in one month; name the month"),
    ("2026-10", "nowhere", "view 'nowhere' is not saved"),
    ("2026-10", "gone-account", "view 'gone-account': account 'Z99999' is not in the ledger"),
])
def test_a_report_view_that_does_not_fit_is_refused_before_running(engine, tmp_path, month, view, expected,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved_views.save_view(LARGE_DEPOSITS, tmp_path / "views")
    saved_views.save_view(SavedView("gone-account", PaymentFilter.from_parameters({"accounts": "Z99999"})),
                          tmp_path / "views")  # another ledger's account, or a typo
    view = str(tmp_path / "views" / f"{view}.yaml") if view in ("october-large-deposits", "gone-account") else view
    with pytest.raises(ViewError, match=re.escape(expected)):
        report.run_audit(month, view=view, out_dir=tmp_path / "r", db_url=str(engine.url), progress=False)
    assert not (tmp_path / "r").exists()


def test_the_explorer_lists_shares_and_opens_views_of_the_ledger_beside_the_files(engine, tmp_path):
    identity.register(engine, "nadia", "auditor")
    saved_views.save_view(LARGE_DEPOSITS, tmp_path / "views")
    explorer = PaymentExplorer(engine, initial=PaymentFilter(), views_dir=tmp_path / "views")
    explorer.kinds.value = ("withdrawal",)
    explorer.query_button.click()
    explorer.views.name.value = "withdrawals"
    explorer.views.share_button.click()  # no operator given
    assert "The view was not shared" in explorer.status.value and "operator is required" in explorer.status.value
    assert "(&#x27;as operator&#x27; LOGIN" in explorer.status.value  # the panel's box, not a command's option
    explorer.views.operator.value = "nadia"
    explorer.views.share_button.click()
    assert "Shared the view withdrawals in the ledger" in explorer.status.value
    assert explorer.views.saved.options == (("october-large-deposits (file)", "october-large-deposits"),
                                            ("withdrawals (shared by nadia)", "ledger:withdrawals"))
    assert explorer.views.saved.value == "ledger:withdrawals"
    explorer.reset_button.click()
    explorer.views.open_button.click()
    assert explorer.current_filter.kinds == (Kind.WITHDRAWAL,) and explorer.current_page.total_count == 1


@pytest.mark.parametrize("written, read_as", [("010", "8"), ("0x10", "16"), ("1:30", "90"), (".nan", "nan"),
                                              ("1000.5", "1000.5"), ("yes", "True")])
def test_an_unquoted_amount_in_a_view_file_is_refused_naming_the_key(engine, tmp_path, capsys, written, read_as):
    url = str(engine.url)
    identity.register(engine, "nadia", "auditor")
    path = tmp_path / "octal.yaml"
    path.write_text(f"name: octal\nfilter:\n  kinds: [deposit]\n  min_amount: {written}\n", encoding="utf-8")
    for command in (["views", "show", str(path)], ["views", "save", str(path), "--by", "nadia"]):
        assert main([*command, "--db", url]) == 2
        out, err = capsys.readouterr()
        assert out == "" and f"octal.yaml: filter min_amount is an unquoted YAML value (read as {read_as}" in err
        assert "money in a view is quoted decimal text: write e.g. min_amount: '1000.00'" in err
    path.write_text("name: octal\nfilter:\n  max_amount: '010'\n", encoding="utf-8")
    assert main(["views", "show", str(path), "--db", url]) == 0
    assert "max_amount: '10.0000'" in capsys.readouterr().out


def test_views_show_escapes_a_description_that_would_reorder_the_terminal(engine, tmp_path, capsys):
    path = tmp_path / "bidi.yaml"
    path.write_text('name: bidi\ndescription: "deposits \\u202eexe.txt"\nfilter:\n  kinds: [deposit]\n', encoding="utf-8")
    assert saved_views.load_view(str(path)).description == "deposits \u202eexe.txt"  # kept as written
    assert main(["views", "show", str(path), "--db", str(engine.url)]) == 0
    out = capsys.readouterr().out
    assert "description: deposits \\u202eexe.txt" in out and "\u202e" not in out


def test_a_plus_in_a_url_is_a_space_and_the_message_says_to_write_2b(engine, tmp_path, capsys):
    with pytest.raises(ViewError, match=re.escape("'Etc/GMT 12' is unknown") + ".*write it as %2B"):
        saved_views.from_query_string("timezone=Etc/GMT+12", tmp_path)
    assert saved_views.from_query_string("timezone=Etc/GMT%2B12", tmp_path).filter.timezone == "Etc/GMT+12"
    identity.register(engine, "priya", "clerk")
    assert main(["views", "save", "far-west", "--query", "timezone=Etc/GMT+12", "--by", "priya",
                 "--db", str(engine.url)]) == 2
    assert "a + in a URL query is read as a space: write it as %2B" in capsys.readouterr().err


def test_a_shared_view_never_takes_a_file_views_name_nor_its_history(engine, tmp_path, capsys):
    url, folder = str(engine.url), tmp_path / "views"
    identity.register(engine, "priya", "clerk")
    saved_views.save_view(SavedView("large-deposits", PaymentFilter.from_parameters({"kinds": "deposit"})), folder)
    base = ["--by", "priya", "--db", url, "--folder", str(folder)]
    assert main(["views", "save", "large-deposits", "--query", "kinds=withdrawal", *base]) == 2
    assert "view 'large-deposits' is a different view in" in capsys.readouterr().err
    assert main(["views", "save", "large-deposits", *base]) == 0  # sharing the file itself
    capsys.readouterr()
    saved_views.save_view(SavedView("large-deposits", PaymentFilter.from_parameters({"kinds": "bonus"})), folder,
                          replace=True)
    assert main(["views", "show", "large-deposits", "--db", url, "--folder", str(folder)]) == 0
    shown = capsys.readouterr().out
    assert "- bonus" in shown and f"file: {folder / 'large-deposits.yaml'}" in shown and "version 1:" not in shown
    assert "also shared in the ledger (version 1, saved by priya)" in shown
    assert main(["views", "show", "ledger:large-deposits", "--db", url, "--folder", str(folder)]) == 0
    shown = capsys.readouterr().out
    assert "- deposit" in shown and "shared in the ledger:\nversion 1: saved by priya" in shown
    assert main(["views", "list", "--db", url, "--folder", str(folder)]) == 0
    assert "the file of this name is what large-deposits opens, this view is ledger:large-deposits" in \
        capsys.readouterr().out


def test_a_summary_refuses_a_view_in_another_time_zone_before_running(engine, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = saved_views.save_view(SavedView("kiritimati", PaymentFilter.from_parameters(
        {"start": "2026-10-01", "end": "2026-10-31", "timezone": "Pacific/Kiritimati"})), tmp_path / "views")
    assert main(["summary", "--view", str(path), "--db", str(engine.url), "--quiet"]) == 2
    assert "view 'kiritimati' cuts days in Pacific/Kiritimati, but this report cuts 2026-10 in Asia/Dubai" in \
        capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_a_summary_by_a_deposit_view_counts_no_bonus_or_adjustment(inline_ledger, tmp_path):
    from vosbench.outputs.finance import FinanceSummary

    ledger = inline_ledger(accounts=ACCOUNTS, name="bonus", payments=PAYMENTS + """
    p5,C2,bonus,839.40,2026-10-07T09:00:00+04:00,omar,admin,cash,B-1,,loyalty,
    """)
    path = saved_views.save_view(SavedView("deposits", PaymentFilter.from_parameters({"kinds": "deposit"})),
                                 tmp_path / "views")
    figures = {(row.figure, row.currency): row.amount for row in
               FinanceSummary.compute(ledger, "2026-10", view=str(path)).headline().itertuples()}
    assert figures[("Bonuses and adjustments (net)", "USD")] == 0
    assert figures[("Cash in (deposits, auto-recharges)", "USD")] == 35_005_000  # p2 and p3
    whole = {(row.figure, row.currency): row.amount for row in FinanceSummary.compute(ledger, "2026-10").headline().itertuples()}
    assert whole[("Bonuses and adjustments (net)", "USD")] == 8_394_000
