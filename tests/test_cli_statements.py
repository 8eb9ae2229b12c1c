"""The statement commands end to end: import, list, match, decide, find-payment, through `vosbench`."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vosbench.commands import main
from vosbench.core import config

SAMPLES = Path(__file__).resolve().parent / "samples" / "statements"


def run(capsys, *argv):
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path, monkeypatch, capsys):
    """A ledger with three customers and their October deposits, imported through the CLI."""
    monkeypatch.setenv(config.ENV_DB, f"sqlite:///{tmp_path / 'main.sqlite'}")
    folder = tmp_path / "ledger"
    folder.mkdir()
    (folder / "accounts.csv").write_text(textwrap.dedent("""\
        account,name,kind
        C00001,Acme Trading LLC,customer
        C00003,Blue Sky Telecom,customer
        C00004,Nile Voice,customer
    """))
    (folder / "payments.csv").write_text(textwrap.dedent("""\
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference
        1,C00001,deposit,1500.00,2026-10-04T10:00:00+04:00,clerk,admin,bank_wire,FT26278100001
        2,C00003,withdrawal,-250.50,2026-10-06T10:00:00+04:00,clerk,admin,bank_wire,FT26279100002
        3,C00003,deposit,100.00,2026-10-03T18:22:10+04:00,portal,web,gateway,ch_0001
        4,C00004,deposit,200.00,2026-10-09T13:01:00+04:00,portal,web,gateway,ch_0003
        5,C00004,deposit,40.00,2026-10-11T13:01:00+04:00,portal,web,gateway,
        6,C00004,deposit,420.00,2026-10-20T13:00:00+04:00,clerk,admin,bank_wire,
        7,C00004,deposit,99.00,2026-10-25T13:00:00+04:00,portal,web,gateway,ch_never
    """))
    code, _, err = run(capsys, "import", str(folder), "--timezone", "Asia/Dubai")
    assert code == 0, err
    return tmp_path


def test_import_list_match_decide_find(db, capsys):
    code, out, _ = run(capsys, "statements", "import", str(SAMPLES / "bank-v8.xml"))
    assert code == 0 and "bank-v8.xml: camt053.08, bank, 1 statement(s): 2 line(s) added, 0 already present" in out
    code, out, _ = run(capsys, "statements", "import", str(SAMPLES / "gateway.csv"), "--profile", "gateway")
    assert code == 0 and "3 line(s) added" in out
    code, out, _ = run(capsys, "statements", "import", str(SAMPLES / "bank-v8.xml"))
    assert "0 line(s) added, 2 already present" in out
    code, out, _ = run(capsys, "statements", "list", "--format", "json")
    listed = json.loads(out)["rows"]
    assert [(r["file_name"], r["lines_added"], r["net"]) for r in listed] == [
        ("bank-v8.xml", 2, "1920.0000"), ("gateway.csv", 3, "329.2400")]
    with_offset = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d")  # stored UTC, shown in the ledger's zone
    assert all(with_offset.fullmatch(row["imported_at"]) for row in listed)
    _, out, _ = run(capsys, "statements", "list", "--format", "csv")
    assert [with_offset.fullmatch(row["imported_at"]) is not None for row in csv.DictReader(io.StringIO(out))] == [True] * 2
    _, out, _ = run(capsys, "statements", "list")
    assert len(with_offset.findall(out)) == 2

    code, out, _ = run(capsys, "match", "--month", "2026-10", "--format", "json")
    result = json.loads(out)
    statuses = {(i["status"], i["rule"], i["payment_ids"]) for i in result["items"]}
    assert ("matched", "reference", "1") in statuses and ("matched", "fee", "5") in statuses
    assert ("matched", "amount_date", "6") in statuses and ("no_money", "", "7") in statuses
    assert ("no_money", "", "2") in statuses  # the withdrawal's debit is not on this statement
    code, out, _ = run(capsys, "match", "--month", "2026-10")
    assert code == 0 and "no_money" in out and "channels bank, gateway" in out

    unmatched = next(i for i in result["items"] if i["payment_ids"] == "6")
    code, _, err = run(capsys, "decide", "reject", "--lines", unmatched["line_ids"], "--payments", "6",
                       "--by", "auditor1", "--note", "not this customer's money")
    assert code == 2 and "'auditor1' is not registered (known: none yet)" in err
    assert run(capsys, "operators", "add", "auditor1", "--role", "auditor")[0] == 0
    code, out, _ = run(capsys, "decide", "reject", "--lines", unmatched["line_ids"], "--payments", "6",
                       "--by", "auditor1", "--note", "not this customer's money")
    assert code == 0 and "decision 1 recorded" in out
    code, out, _ = run(capsys, "match", "--month", "2026-10", "--format", "csv", "--status", "no_money")
    assert "\n" in out and ",6," in out  # record 6 is now without money
    code, out, _ = run(capsys, "decide", "history")
    assert "auditor1" in out and "reject" in out
    assert len(with_offset.findall(out)) == 1  # when it was decided, with the ledger zone's offset

    code, out, _ = run(capsys, "find-payment", "--amount", "420.00", "--date", "2026-10-20", "--name", "Nile Voice",
                       "--format", "json")
    rows = json.loads(out)["rows"]
    assert {rows[0]["found_in"], rows[1]["found_in"]} == {"statement line", "payment record"}
    assert rows[0]["amount"] == "420.0000"


@pytest.mark.parametrize("argv, message", [
    (["statements", "import", "gateway.csv"], "give --profile NAME"),
    (["statements", "import", "bank-bad-rows.csv", "--profile", "generic-bank-csv"], "3 row(s) rejected"),
    (["statements", "import", "bank-v8.xml", "--channel", "paypal"], "unknown value 'paypal'"),
    (["decide", "confirm", "--lines", "1", "--payments", "1"], "say who decides pairings (--by LOGIN"),
    (["find-payment", "--amount", "12.5.0", "--date", "2026-10-01"], "not a number"),
    (["match", "--month", "2026-13"], "2026-13"),
])
def test_bad_input_exits_2_naming_the_input(db, capsys, argv, message):
    argv = [str(SAMPLES / a) if a.endswith((".csv", ".xml")) else a for a in argv]
    code, _out, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_the_notebook_workbench_imports_uploads_decides_and_exports(db, capsys, tmp_path):
    import openpyxl

    from vosbench.ui.matching_workbench import StatementWorkbench

    bench = StatementWorkbench.open(month="2026-10", statement_file=str(SAMPLES / "bank-v8.xml"))
    assert "2 line(s) added" in bench.message and bench.run.channels == ["bank"]
    status = bench.status().data
    assert status.startswith("Matching **2026-10**") and "from bank" in status and "2 line(s) added" in status
    panel = bench.upload_panel()
    panel.button.click()
    assert panel.status.value == "Choose a file first."
    panel.upload.value = ({"name": "gateway.csv", "type": "text/csv", "size": 1,
                           "last_modified": datetime(2026, 11, 1, tzinfo=UTC),
                           "content": memoryview((SAMPLES / "gateway.csv").read_bytes())},)
    panel.button.click()  # no profile chosen: the panel says what to do, nothing raises
    assert "give --profile NAME" in panel.status.value
    panel.profile.value = "gateway"
    panel.button.click()
    assert "gateway.csv: 3 line(s) added" in panel.status.value and bench.run.channels == ["bank", "gateway"]
    assert bench.view("no_payment_record").data.endswith("** none.")  # every line has its record
    assert "C00004" in bench.view("no_money").to_html()

    assert run(capsys, "operators", "add", "auditor1", "--role", "auditor")[0] == 0
    decide = bench.decision_panel("auditor1")
    decide.action.value, decide.lines.value, decide.payments.value = "match", "999", "7"
    decide.button.click()
    assert "statement line 999 does not exist" in decide.status.value
    line = bench.run.of_status("matched").query("payment_ids == '6'").iloc[0]["line_ids"]
    decide.action.value, decide.lines.value, decide.payments.value = "reject", line, "6"
    decide.button.click()
    assert "decision 1 recorded" in decide.status.value
    assert "6" in set(bench.run.of_status("no_money")["payment_ids"])

    path = bench.export(tmp_path / "out")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Items", "Decisions"]
    assert book["Decisions"]["B2"].value == "reject"
    assert bench.export("") is None


def test_importing_many_files_reports_each_tries_them_all_and_exits_2_when_one_is_refused(db, capsys, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text((SAMPLES / "bank-v8.xml").read_text()[:600])
    missing = tmp_path / "missing.ofx"
    code, out, err = run(capsys, "statements", "import", str(SAMPLES / "bank-v8.xml"), str(broken), str(missing),
                         str(SAMPLES / "bank-two-accounts.ofx"), str(SAMPLES / "bank-v8.xml"))
    assert code == 2
    assert "bank-v8.xml: camt053.08, bank, 1 statement(s): 2 line(s) added, 0 already present: imported" in out
    assert "bank-two-accounts.ofx: ofx, bank, 2 statement(s): 4 line(s) added" in out  # tried after the refusals
    assert "0 line(s) added, 2 already present: unchanged" in out
    assert out.rstrip().endswith("5 file(s): 2 imported, 1 unchanged, 2 refused; 1 read with warnings, kept with "
                                 "the import (`vosbench statements list`)")
    refused = err.strip().splitlines()
    assert refused[0].startswith("broken.xml: refused: not well-formed XML at line")
    assert refused[1].startswith("missing.ofx: refused: ") and "no such file" in refused[1]
    assert "Traceback" not in err


def test_importing_files_that_all_read_exits_0_and_prints_their_warnings(db, capsys, tmp_path):
    sloppy = tmp_path / "sloppy.ofx"
    sloppy.write_bytes(b"\xef\xbb\xbf" + (SAMPLES / "bank-two-accounts.ofx").read_bytes().replace(
        b"<BANKID>033<", b"<BANKID>0331234567890<"))
    code, out, _ = run(capsys, "statements", "import", str(sloppy))
    assert code == 0 and "sloppy.ofx: warning: a UTF-8 byte-order mark before the header was ignored" in out
    assert "BANKID '0331234567890' is longer than the 9 characters" in out
    assert out.rstrip().endswith("1 file(s): 1 imported, 0 unchanged, 0 refused; 1 read with warnings, kept with "
                                 "the import (`vosbench statements list`)")
    code, out, _ = run(capsys, "statements", "list", "--format", "csv")
    assert code == 0 and "a UTF-8 byte-order mark before the header was ignored | bank statement" in out


UNRECORDED = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId>
<CreDtTm>2026-11-01T00:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>AE070331234567890123456</IBAN></Id>
<Ccy>USD</Ccy></Acct>
<Ntry><Amt Ccy="USD">77.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-14</Dt>
</BookgDt><AcctSvcrRef>U1</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>-TOPUP-77</EndToEndId></Refs><RltdPties>
<Dbtr><Pty><Nm>Someone Else</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>top-up for C00003</Ustrd></RmtInf></TxDtls>
</NtryDtls></Ntry>
<Ntry><Amt Ccy="USD">55.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-15</Dt>
</BookgDt><AcctSvcrRef>U2</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>NILE VOICE</Nm></Pty></Dbtr>
</RltdPties></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="USD">33.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-16</Dt>
</BookgDt><AcctSvcrRef>U3</AcctSvcrRef><AddtlNtryInf>CASH DEPOSIT</AddtlNtryInf></Ntry>
<Ntry><Amt Ccy="USD">12.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-16</Dt>
</BookgDt><AcctSvcrRef>U4</AcctSvcrRef><AddtlNtryInf>Account maintenance</AddtlNtryInf></Ntry>
</Stmt></BkToCstmrStmt></Document>"""


def test_match_proposes_the_deposit_for_money_without_a_record(db, capsys, tmp_path):
    path = tmp_path / "unrecorded.xml"
    path.write_text(UNRECORDED)
    assert run(capsys, "statements", "import", str(path))[0] == 0
    code, out, _ = run(capsys, "match", "--month", "2026-10", "--propose", "--format", "json")
    assert code == 0
    rows = {row["reference"]: row for row in json.loads(out)["rows"]}
    assert set(rows) == {"-TOPUP-77", "U2", "U3"}  # incoming only: the debit U4 is not proposed
    assert (rows["-TOPUP-77"]["account"], rows["-TOPUP-77"]["amount"]) == ("C00003", "77.0000")
    assert rows["-TOPUP-77"]["basis"].startswith("reference:")
    assert rows["-TOPUP-77"]["command"].startswith(  # --reference=-TOPUP-77: a value, not an option
        "vosbench record --account=C00003 --kind deposit --amount 77.0000 --method bank_wire "
        "--at 2026-10-14T12:00:00+04:00 --operator YOUR_LOGIN --reference=-TOPUP-77")
    assert (rows["U2"]["account"], rows["U2"]["basis"]) == ("C00004", "name: the payer's name is the account's")
    assert rows["U3"]["account"] == "" and rows["U3"]["command"] == ""


def test_a_proposed_deposit_once_recorded_matches_its_line(db, capsys, tmp_path):
    import shlex

    path = tmp_path / "unrecorded.xml"
    path.write_text(UNRECORDED)
    run(capsys, "statements", "import", str(path))
    out = run(capsys, "match", "--month", "2026-10", "--propose", "--format", "json")[1]
    proposal = next(row for row in json.loads(out)["rows"] if row["reference"] == "-TOPUP-77")
    assert run(capsys, "operators", "add", "clerk", "--role", "clerk")[0] == 0
    code, _, err = run(capsys, *shlex.split(proposal["command"].replace("YOUR_LOGIN", "clerk"))[1:])
    assert code == 0, err
    items = json.loads(run(capsys, "match", "--month", "2026-10", "--format", "json")[1])["items"]
    assert any(i["status"] == "matched" and i["reference"] == "-TOPUP-77" and i["accounts"] == "C00003" for i in items)


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_proposed_command_pastes_a_reference_with_hidden_characters_exactly_and_shows_them(db, capsys, tmp_path, fmt):
    import subprocess

    reference = "TOPUP\u202e77-\u2066'"  # a right-to-left override, a left-to-right isolate and a quote
    path = tmp_path / "unrecorded.xml"
    path.write_text(UNRECORDED.replace("-TOPUP-77", reference.replace("'", "&apos;")))
    assert run(capsys, "statements", "import", str(path))[0] == 0
    out = run(capsys, "match", "--month", "2026-10", "--propose", "--format", fmt)[1]
    shown = {"json": lambda: [row["command"] for row in json.loads(out)["rows"]],
             "csv": lambda: [row["command"] for row in csv.DictReader(io.StringIO(out))],
             "table": lambda: [line[line.index("vosbench record"):].rstrip() for line in out.splitlines()
                               if "vosbench record" in line]}[fmt]()
    command = next(text for text in shown if "--account=C00003" in text).split(" --memo=")[0]
    # what is shown is what the shell is given: the hidden characters spelled as bytes, never as \u202e
    assert command.endswith("--reference=$'TOPUP\\xe2\\x80\\xae77-\\xe2\\x81\\xa6\\''")
    pasted = subprocess.run(["bash", "-c", f"printf '%s\\0' {command}"], capture_output=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}).stdout.decode("utf-8").split("\0")
    assert f"--reference={reference}" in pasted  # in any locale: the bytes are spelled, not the code point
    assert run(capsys, "operators", "add", "clerk", "--role", "clerk")[0] == 0
    code, _, err = run(capsys, *[word.replace("YOUR_LOGIN", "clerk") for word in pasted[1:-1]],
                       "--memo=proposed from statement line 1")
    assert code == 0, err
    items = json.loads(run(capsys, "match", "--month", "2026-10", "--format", "json")[1])["items"]
    assert any(i["status"] == "matched" and i["accounts"] == "C00003" and i["reference"] == reference for i in items)


def test_a_reference_with_a_nul_character_is_imported_without_it_and_proposed_with_a_command(db, capsys, tmp_path):
    """No shell command can pass a NUL on, and PostgreSQL keeps none: the import takes it out, and says so."""
    path = tmp_path / "gateway.csv"
    path.write_text("created_utc,charge_id,customer_account,card_holder,currency,gross,fee,net,status,description\n"
                    "2026-10-14 10:00:00,ch_\x0077,C00003,B SKY,USD,80.00,2.62,77.38,succeeded,Portal top-up\n")
    code, out, _ = run(capsys, "statements", "import", str(path), "--profile", "gateway")
    assert code == 0 and "warning: NUL characters (0x00) taken out of line_key, reference" in out
    rows = json.loads(run(capsys, "match", "--month", "2026-10", "--propose", "--format", "json")[1])["rows"]
    [row] = [row for row in rows if row["reference"] == "ch_77"]
    assert row["account"] == "C00003" and "--reference=ch_77" in row["command"]


def test_the_workbench_records_the_proposed_deposit_or_queues_it_for_approval(db, capsys, tmp_path):
    from vosbench.ledger import approvals
    from vosbench.ui.matching_workbench import StatementWorkbench

    path = tmp_path / "unrecorded.xml"
    path.write_text(UNRECORDED)
    controls = tmp_path / "controls.yaml"
    controls.write_text('approval_thresholds:\n  USD:\n    deposit: "60.00"\n')
    for login, role in (("clerk", "clerk"), ("boss", "supervisor")):
        assert run(capsys, "operators", "add", login, "--role", role)[0] == 0
    bench = StatementWorkbench.open(month="2026-10", statement_file=str(path), controls=str(controls))
    panel = bench.proposal_panel()
    labels = {value: label for label, value in panel.line.options}
    assert len(labels) == 3  # the incoming lines without a record; the debit is not proposed
    topup = next(value for value, label in labels.items() if "(-TOPUP-77)" in label)
    nile = next(value for value, label in labels.items() if "from NILE VOICE" in label)
    panel.line.value = nile
    assert panel.account.value == "C00004" and panel.basis.value.startswith("name:")
    panel.button.click()  # no operator: refused by the manual-entry rules, nothing written, nothing raised
    assert "<pre>" in panel.status.value and nile in dict(panel.line.options).values()
    panel.who.value = "clerk"
    panel.button.click()
    assert panel.status.value.startswith("recorded payment ") and f"statement line {nile} now matches" in \
        panel.status.value
    assert nile not in dict(panel.line.options).values()  # matched: no longer proposed
    matched = bench.run.of_status("matched")
    assert str(nile) in set(matched["line_ids"]) and "C00004" in set(matched["accounts"])

    panel.line.value = topup
    assert panel.account.value == "C00003" and panel.basis.value.startswith("reference:")
    panel.button.click()  # 77.00 is above the 60.00 deposit threshold: it waits for a supervisor
    assert panel.status.value.startswith("pending approval: request ")
    assert topup in dict(panel.line.options).values()  # still no record until approved
    request = int(panel.status.value.split("request ")[1].split(" ")[0])
    approvals.approve(bench.engine, request, checker="boss")
    bench.rerun()
    items = bench.run.of_status("matched")
    assert any(row.reference == "-TOPUP-77" and row.accounts == "C00003" for row in items.itertuples())
    panel.refresh()
    assert len(panel.line.options) == 1 and panel.account.value == ""  # U3: nothing names an account
    assert panel.basis.value.startswith("no suggestion")


def test_a_folder_or_a_huge_amount_is_refused_in_one_line(db, capsys, tmp_path):
    (tmp_path / "exports").mkdir()
    huge = tmp_path / "huge.xml"
    huge.write_text(UNRECORDED.replace("<Amt Ccy=\"USD\">77.00", "<Amt Ccy=\"USD\">" + "7" * 500))
    code, _, err = run(capsys, "statements", "import", str(tmp_path / "exports"), str(huge))
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0] == "exports: refused: is a folder; give the statement file(s) in it"
    assert lines[2] == "  huge.xml:1: entry 1 (U1): Amt '77777777777777777777'… (500 characters) is not an amount"
    code, _, err = run(capsys, "statements", "import", "/dev/null")
    assert code == 2 and err.startswith("null: refused: is not a regular file")


def test_a_decision_that_could_not_apply_is_refused_when_taken(db, capsys, tmp_path):
    """Maker-checker, a pairing an earlier decision holds, and a record of another channel are refused at once;
    a hand match whose amounts differ says how `match` will report it, and `match` does."""
    bank = tmp_path / "bank.csv"
    bank.write_text("Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID\n"
                    "2026-10-20,,420.00,,Nile Voice,,T420\n2026-10-21,,555.00,,Nile Voice,,T555\n")
    assert run(capsys, "statements", "import", str(bank), "--profile", "generic-bank-csv")[0] == 0
    for login, role in (("clerk", "clerk"), ("checker", "supervisor")):
        assert run(capsys, "operators", "add", login, "--role", role)[0] == 0
    items = json.loads(run(capsys, "match", "--month", "2026-10", "--format", "json")[1])["items"]
    line_420 = next(i["line_ids"] for i in items if i["statement_amount"] == "420.0000")
    line_555 = next(i["line_ids"] for i in items if i["statement_amount"] == "555.0000")

    code, _, err = run(capsys, "decide", "confirm", "--lines", line_420, "--payments", "6", "--by", "clerk")
    assert code == 2 and "clerk recorded payment record 6, so cannot confirm its pairing" in err  # clerk entered 6
    code, out, _ = run(capsys, "decide", "confirm", "--lines", line_420, "--payments", "6", "--by", "checker")
    assert code == 0 and "reported as matched (amount 420.00 equal, USD)" in out
    held = f"is already paired by decision 1 (confirm of lines {line_420} with payment records 6, by checker)"
    code, _, err = run(capsys, "decide", "match", "--lines", line_555, "--payments", "6", "--by", "checker")
    assert code == 2 and f"payment record 6 {held}" in err
    assert f"`vosbench decide reject --lines {line_420} --payments 6`" in err
    code, _, err = run(capsys, "decide", "match", "--lines", line_420, "--payments", "1,6", "--by", "checker")
    assert code == 2 and f"statement line {line_420} {held}" in err
    code, _, err = run(capsys, "decide", "match", "--lines", line_555, "--payments", "4", "--by", "checker")
    assert code == 2 and "one channel and one currency, and these are bank USD, gateway USD" in err

    assert run(capsys, "decide", "reject", "--lines", line_420, "--payments", "6", "--by", "checker")[0] == 0
    code, out, _ = run(capsys, "decide", "match", "--lines", line_555, "--payments", "6", "--by", "checker")
    assert code == 0 and "reported as amount_difference (statement 555.00, recorded 420.00: 135.00 apart, USD)" in out
    items = json.loads(run(capsys, "match", "--month", "2026-10", "--format", "json")[1])["items"]
    paired = next(i for i in items if i["payment_ids"] == "6")
    assert (paired["status"], paired["rule"], paired["line_ids"]) == ("amount_difference", "manual", line_555)
    assert run(capsys, "decide", "history")[1].count("checker") == 3  # the refused decisions left no row


@pytest.mark.parametrize("argv, message", [
    (("match", "--month", "2026-10", "--status", "nonsense"), "'nonsense' is no status; give one of matched, "),
    (("match", "--month", "2026-10", "--window-days", "-3"), "argument --window-days: '-3': give whole days from 0 to 366"),
    (("match", "--month", "2026-10", "--window-days", "100000000"), "argument --window-days: '100000000': give whole"),
])
def test_a_match_option_that_would_hide_or_break_the_answer_is_refused(db, capsys, argv, message):
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal: usage and one line, exit 2
        main.main(list(argv))
    err = capsys.readouterr().err
    assert refused.value.code == 2 and message in err and "Traceback" not in err


def test_a_file_that_is_no_profile_is_named_as_such(db, capsys, tmp_path):
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    code, _, err = run(capsys, "statements", "import", str(SAMPLES / "gateway.csv"), "--profile", str(tmp_path / "passwd"))
    assert code == 2 and "a file, but no profile; give a profile YAML file (.yaml or .yml)" in err
