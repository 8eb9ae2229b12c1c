"""The demo's statements: real files imported like a user's, every planted case found, nothing else.

The matcher is run on the small demo the way an analyst would (`vosbench match`); the
answer key says what it must find.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from vosbench.analysis.matching import review
from vosbench.ledger import hashchain, setup, tables
from vosbench.sources import demo
from vosbench.sources.bankfiles import importing

SMALL = demo.DemoScale(customers=60, months=4)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo-statements") / "ledger.sqlite"
    key = demo.build_demo(f"sqlite:///{path}", SMALL, progress=False)
    return setup.open_ledger(f"sqlite:///{path}"), path, key


def test_statements_are_files_beside_the_ledger_in_every_format(built):
    _engine, path, key = built
    files = key["statements"]["files"]
    assert key["statements"]["months"] == ["2026-08", "2026-09", "2026-10"]
    assert {name.split("-")[0] for name in files} == {"bank", "gateway", "ivr", "crypto"}
    assert [name for name in files if name.startswith("bank")] == [
        "bank-2026-08.ofx", "bank-2026-09.camt053-02.xml", "bank-2026-10.camt053-08.xml"]
    assert all((path.with_name("ledger.statements") / name).is_file() for name in files)


def test_importing_the_demo_files_again_adds_nothing(built):
    engine, path, key = built
    for name in key["statements"]["files"]:
        profile = {"gateway": "gateway", "ivr": "ivr-log", "crypto": "crypto"}.get(name.split("-")[0])
        result = importing.import_file(engine, path.with_name("ledger.statements") / name, profile=profile)
        assert result.added == 0 and result.skipped > 0


def test_every_planted_case_is_found_and_nothing_else(built):
    engine, _path, key = built
    planted = key["statements"]["planted"]
    assert sorted(case["kind"] for case in planted) == sorted([
        "batched_credit", "deposit_without_money", "duplicate_deposit_second_record",
        "fee_reduced_gateway_payment", "money_without_deposit", "wrong_account_deposit"])
    run = review.run_month(engine, "2026-10")
    with engine.connect() as connection:
        keys = dict(connection.execute(sa.select(tables.statement_lines.c.id, tables.statement_lines.c.line_key)).all())
    found = {(tuple(sorted(p.id for p in g.payments)), tuple(sorted(keys[l.id] for l in g.lines))): g
             for g in run.groups}
    expected_findings = set()
    for case in planted:
        matches = [g for (payment_ids, line_keys), g in found.items()
                   if list(payment_ids) == case["payment_ids"] and all(k in line_keys for k in case["line_keys"])]
        assert len(matches) == 1, case
        group = matches[0]
        assert group.status == case["expected_status"], (case, group.explanation)
        if case["expected_rule"]:
            assert group.rule == case["expected_rule"], case
        if group.status != "matched":
            expected_findings.add(id(group))
    surprises = [g.explanation for g in run.groups if g.status != "matched" and id(g) not in expected_findings]
    assert surprises == []


def test_earlier_months_match_completely(built):
    engine, _path, _key = built
    for month in ("2026-08", "2026-09"):
        run = review.run_month(engine, month)
        assert run.channels == ["bank", "crypto", "gateway", "ivr"]
        assert {g.status for g in run.groups} == {"matched"}, month


def test_statements_leave_the_payments_and_their_chains_as_they_were(built, tmp_path, monkeypatch):
    from vosbench.sources.demo import build

    engine, _path, key = built
    monkeypatch.setattr(build.demo_statements, "make_and_import", lambda *args, **kwargs: {})
    without = demo.build_demo(f"sqlite:///{tmp_path / 'plain.sqlite'}", SMALL, progress=False)
    with engine.connect() as first, setup.open_ledger(f"sqlite:///{tmp_path / 'plain.sqlite'}").connect() as second:
        with_statements, plain = hashchain.fingerprint(first), hashchain.fingerprint(second)
    for name in hashchain.CHAINED_TABLES:  # the statements' own tables are chained too, and differ
        assert with_statements[name] == plain[name]
    assert without["anomalies"] == key["anomalies"]


def test_the_monthly_audit_has_a_statement_section_only_when_the_month_has_statements(built, tmp_path):
    import openpyxl
    from IPython.display import Markdown

    from vosbench.outputs import audit

    engine, _path, key = built
    october = audit.MonthlyAudit.compute(engine, "2026-10")
    names = list(october.tables())
    assert names[names.index("Differences") + 1] == "Statement matching"
    sheet = october.tables()["Statement matching"].frame
    assert sheet.equals(review.run_month(engine, "2026-10").items())
    findings = sheet[sheet["status"] != "matched"]
    assert len(findings) == len([c for c in key["statements"]["planted"] if c["expected_status"] != "matched"])
    assert "no_money" in october.view("Statement findings").to_html()
    written = october.write_outputs(tmp_path, png=False)
    assert "Statement matching" in openpyxl.load_workbook(written[0]).sheetnames

    july = audit.MonthlyAudit.compute(engine, "2026-07")
    assert july.statement_matching is None and "Statement matching" not in july.tables()
    assert isinstance(july.view("Statement matching"), Markdown)
