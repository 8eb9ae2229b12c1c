"""A proposed deposit never posts the wrong money nor the same money twice (issue 16 point 6).

A line in another currency than the account, a payer whose name is another account's than
the code the line quotes, and a line whose deposit already waits for approval get no ready
command, through ``vosbench match --propose`` and the workbench's panel alike; and the one
write door refuses a second entry of a deposit an undecided request holds, whoever types it.
"""

from __future__ import annotations

import json
import shlex
import textwrap

import pytest

from vosbench.commands import main
from vosbench.core import config
from vosbench.ledger import approvals


def run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _camt(currency: str, *entries: tuple[str, str, str, str, str]) -> str:
    """A camt.053 of ``currency`` holding credits: (amount, day, bank reference, payer's name, remittance text)."""
    body = "".join(
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>2026-10-{day}</Dt></BookgDt><AcctSvcrRef>{reference}</AcctSvcrRef><NtryDtls><TxDtls>"
        f"<Refs><EndToEndId>{reference}</EndToEndId></Refs><RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr>"
        f"</RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for amount, day, reference, payer, text in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            "<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-01T00:00:00</CreDtTm></GrpHdr><Stmt>"
            f"<Id>S-{currency}</Id><Acct><Id><IBAN>AE07033123456789012{currency}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
            f"{body}</Stmt></BkToCstmrStmt></Document>")


@pytest.fixture
def db(tmp_path, monkeypatch, capsys):
    """USD accounts, one EUR account sharing a USD account's name, a clerk, a second clerk and a supervisor;
    a USD, a EUR and a JPY statement of October lines that no record matches."""
    monkeypatch.setenv(config.ENV_DB, f"sqlite:///{tmp_path / 'main.sqlite'}")
    folder = tmp_path / "ledger"
    folder.mkdir()
    (folder / "accounts.csv").write_text(textwrap.dedent("""\
        account,name,kind,currency
        C00007,Apex Voice DMCC,customer,USD
        C00021,Orbit Telecom,customer,USD
        C00121,Orbit Telecom,customer,EUR
        C00062,Sakura Call,customer,USD
    """))
    (folder / "payments.csv").write_text(textwrap.dedent("""\
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference
        1,C00007,deposit,1500.00,2026-10-04T10:00:00+04:00,clerk,admin,bank_wire,FT26278100001
    """))
    code, _, err = run(capsys, "import", str(folder), "--timezone", "Asia/Dubai")
    assert code == 0, err
    for login, role in (("clerk", "clerk"), ("clerk2", "clerk"), ("boss", "supervisor")):
        assert run(capsys, "operators", "add", login, "--role", role)[0] == 0
    files = {"usd.xml": _camt("USD", ("77.00", "14", "TOPUP-77", "Someone Else", "top-up for C00062"),
                                ("640.00", "15", "WIRE-640", "Apex Voice DMCC", "Wire ref. C00062")),
             "eur.xml": _camt("EUR", ("300.00", "16", "EU-300", "Orbit Telecom GmbH", "C00021"),
                                ("120.00", "18", "EU-120", "Orbit Telecom", "monthly top-up")),
             "jpy.xml": _camt("JPY", ("5000", "17", "JP-5000", "Sakura Call KK", "C00062"))}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        code, _, err = run(capsys, "statements", "import", str(tmp_path / name))
        assert code == 0, err
    (tmp_path / "controls.yaml").write_text('approval_thresholds:\n  USD:\n    deposit: "60.00"\n')
    return tmp_path


def _proposals(capsys) -> dict[str, dict]:
    code, out, err = run(capsys, "match", "--month", "2026-10", "--propose", "--format", "json")
    assert code == 0, err
    return {row["reference"]: row for row in json.loads(out)["rows"]}


def _items(capsys) -> list[dict]:
    return json.loads(run(capsys, "match", "--month", "2026-10", "--format", "json")[1])["items"]


def test_a_line_in_another_currency_than_the_account_gets_no_command_and_says_why(db, capsys):
    rows = _proposals(capsys)
    jpy = rows["JP-5000"]
    assert (jpy["account"], jpy["currency"], jpy["command"]) == ("C00062", "JPY", "")
    assert jpy["basis"].startswith("reference: the line quotes the account's code; but the line is in JPY and "
                                   "C00062 holds USD: a deposit would post ")
    assert "record it on the payer's JPY account" in jpy["basis"]


def test_a_line_in_another_currency_names_the_account_of_the_same_name_in_its_currency_but_records_nothing(db, capsys):
    eur = _proposals(capsys)["EU-300"]
    assert (eur["account"], eur["command"]) == ("C00021", "")
    assert "the line is in EUR and C00021 holds USD" in eur["basis"]
    assert eur["basis"].endswith("(C00121 is the EUR account of the same name)")


def test_of_two_accounts_of_the_payer_s_name_the_one_in_the_line_s_currency_is_proposed_and_then_matches(db, capsys):
    topup = _proposals(capsys)["EU-120"]
    assert (topup["account"], topup["basis"]) == ("C00121", "name: the payer's name is the account's")
    code, _, err = run(capsys, *shlex.split(topup["command"].replace("YOUR_LOGIN", "clerk"))[1:])
    assert code == 0, err
    assert any(i["status"] == "matched" and i["reference"] == "EU-120" and i["accounts"] == "C00121"
               for i in _items(capsys))


def test_a_payer_named_as_another_account_than_the_code_quoted_gets_no_command(db, capsys):
    wire = _proposals(capsys)["WIRE-640"]
    assert (wire["account"], wire["command"]) == ("C00062", "")
    assert wire["basis"] == ("reference: the line quotes the account's code; but the payer's name is C00007's "
                             "(Apex Voice DMCC): check which account before recording")


def test_a_deposit_waiting_for_approval_is_not_proposed_again_nor_entered_twice(db, capsys):
    controls = str(db / "controls.yaml")
    topup = _proposals(capsys)["TOPUP-77"]
    assert topup["account"] == "C00062" and topup["command"]
    first = [*shlex.split(topup["command"].replace("YOUR_LOGIN", "clerk"))[1:], "--controls", controls]
    code, out, err = run(capsys, *first)
    assert code == 0 and out.startswith("pending approval: request "), err
    request = int(out.split("request ")[1].split(" ")[0])

    again = _proposals(capsys)["TOPUP-77"]
    assert again["command"] == "" and again["basis"].startswith(
        f"pending: request {request} (by clerk) already holds this deposit to C00062; a supervisor approves it "
        f"(`vosbench approvals approve {request} --operator NAME`)")

    # a second clerk pasting the command kept from before: the write door refuses it in one line
    second = [*shlex.split(topup["command"].replace("YOUR_LOGIN", "clerk2"))[1:], "--controls", controls]
    code, out, err = run(capsys, *second)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"request {request} (clerk, " in err and f"vosbench approvals approve {request} --operator NAME" in err
    # without the stricter controls the deposit is below the ledger's threshold: refused all the same
    code, _, err = run(capsys, *second[:-2])
    assert code == 2 and f"request {request} (clerk, " in err
    pending = approvals.requests(_engine(db))
    assert list(pending["request_id"]) == [request]

    assert run(capsys, "approvals", "approve", str(request), "--operator", "boss")[0] == 0
    assert [i for i in _items(capsys) if i["reference"] == "TOPUP-77"][0]["status"] == "matched"
    assert "TOPUP-77" not in _proposals(capsys)


def test_the_panel_refuses_another_currency_holds_doubtful_lines_and_says_a_request_is_pending(db, capsys):
    from vosbench.ui.matching_workbench import StatementWorkbench

    bench = StatementWorkbench.open(month="2026-10", controls=str(db / "controls.yaml"))
    panel = bench.proposal_panel(operator="clerk")
    labels = {reference: next((value, label) for label, value in panel.line.options if f"({reference})" in label)
              for reference in ("JP-5000", "WIRE-640", "TOPUP-77")}
    jpy, jpy_label = labels["JP-5000"]
    assert jpy_label.endswith("→ C00062 (check)")
    panel.line.value = jpy
    assert panel.account.value == "" and "holds USD" in panel.basis.value  # held: not filled in
    panel.account.value = "C00062"
    panel.button.click()  # the analyst types the USD account anyway: refused, nothing written
    assert panel.status.value.startswith("<pre>statement line ") and "the line is in JPY and C00062 holds USD" in \
        panel.status.value
    assert approvals.requests(bench.engine, pending_only=False).empty
    assert jpy in dict(panel.line.options).values()

    wire, _label = labels["WIRE-640"]
    panel.line.value = wire
    assert panel.account.value == "" and "the payer's name is C00007's" in panel.basis.value

    topup, _label = labels["TOPUP-77"]
    panel.line.value = topup
    assert panel.account.value == "C00062"
    panel.button.click()  # 77.00 is above the 60.00 threshold: it waits
    assert panel.status.value.startswith("pending approval: request ")
    request = int(panel.status.value.split("request ")[1].split(" ")[0])
    panel.line.value = topup
    assert panel.account.value == "" and panel.basis.value.startswith(f"pending: request {request} (by clerk)")
    panel.account.value = "C00062"
    panel.button.click()  # a second click: refused, naming the request (the write door would refuse it too)
    assert panel.status.value.startswith(f"<pre>statement line {topup}: request {request} (by clerk) already holds")
    panel.account.value = "C00007"
    panel.button.click()  # nor on another account: the line's deposit is waiting already
    assert panel.status.value.startswith(f"<pre>statement line {topup}: request {request} (by clerk) already holds")
    assert list(approvals.requests(bench.engine)["request_id"]) == [request]


def _engine(folder):
    from vosbench.ledger import setup

    return setup.open_ledger(f"sqlite:///{folder / 'main.sqlite'}")
