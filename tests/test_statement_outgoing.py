"""Gateway settlement exports (Stripe, PayPal) through profiles, and money out kept apart from customer money.

Fixtures are written here from the gateways' published column lists, not copied from any export.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from vosbench.analysis.matching import records
from vosbench.analysis.matching.matcher import Line, Payment, match
from vosbench.ledger import setup, tables
from vosbench.sources.bankfiles import importing, profiles

STRIPE = """\
balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,customer_facing_currency
txn_1A,2026-10-03 18:22:10,2026-10-03 22:22:10,2026-10-05 00:00:00,2026-10-05 04:00:00,usd,100.00,-3.20,96.80,charge,ch_0001,Top-up C00003,100.00,usd
txn_1B,2026-10-04 09:00:00,2026-10-04 13:00:00,2026-10-06 00:00:00,2026-10-06 04:00:00,usd,-20.00,0.00,-20.00,refund,re_0001,Refund C00003,20.00,usd
txn_1C,2026-10-05 00:00:00,2026-10-05 04:00:00,2026-10-05 00:00:00,2026-10-05 04:00:00,usd,-76.80,0.00,-76.80,payout,po_0001,STRIPE PAYOUT,,
txn_1D,2026-10-06 00:00:00,2026-10-06 04:00:00,2026-10-06 00:00:00,2026-10-06 04:00:00,usd,-2.00,0.00,-2.00,fee,fee_0001,Radar screening fees,,
"""

PAYPAL = """\
"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","From Email Address","To Email Address","Transaction ID","Reference Txn ID","Invoice Number","Custom Number","Balance","Balance Impact"
"10/07/2026","10:01:02","PDT","Nile Voice","Express Checkout Payment","Completed","USD","1,250.00","-43.55","1,206.45","ap@nile.example","billing@vos.example","5AB00001","","INV-100","C00004","1,206.45","Credit"
"10/07/2026","10:01:03","PDT","Nile Voice","Express Checkout Payment","Pending","USD","99.00","0.00","99.00","ap@nile.example","billing@vos.example","5AB00002","","INV-101","C00004","1,206.45","Credit"
"10/08/2026","08:00:00","PDT","","General Authorization","Completed","USD","-5.00","0.00","-5.00","","","5AB00003","","","","1,206.45","Memo"
"10/09/2026","08:00:00","PDT","","General Withdrawal - Bank Account","Completed","USD","-1,000.00","0.00","-1,000.00","","","5AB00004","","","","206.45","Debit"
"10/10/2026","08:00:00","PDT","Acme Trading LLC","Payment Refund","Completed","USD","-50.00","1.45","-48.55","","ap@acme.example","5AB00005","5AB00000","INV-90","C00001","157.90","Debit"
"""


@pytest.fixture
def engine(tmp_path):
    return setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone="UTC")


def stored(engine) -> dict:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(tables.statement_lines)).all()
    return {row.line_key: row for row in rows}


def classes(engine) -> dict:
    with engine.connect() as connection:
        return {line.key: line.outgoing for line in records.load_lines(connection, date(2026, 1, 1), date(2026, 12, 31))}


def test_stripe_balance_report_reads_gross_amounts_and_sets_payouts_and_fees_apart(engine, tmp_path):
    path = tmp_path / "stripe.csv"
    path.write_text(STRIPE)
    result = importing.import_file(engine, path, profile="stripe-balance")
    assert (result.channel, result.added) == ("gateway", 4)
    rows = stored(engine)
    charge = rows["id:txn_1A"]
    assert (charge.amount, charge.currency, charge.reference, charge.posted_on, charge.value_on) == (
        1_000_000, "USD", "ch_0001", date(2026, 10, 3), date(2026, 10, 5))
    assert classes(engine) == {"id:txn_1A": "", "id:txn_1B": "", "id:txn_1C": "payout", "id:txn_1D": "fee"}
    assert json.loads(rows["id:txn_1C"].raw)["outgoing_rule"] == (
        "profile: reporting_category in payout, payout_reversal, topup, topup_reversal, transfer, transfer_reversal")


def test_paypal_activity_skips_pending_and_memo_rows_and_sets_withdrawals_apart(engine, tmp_path):
    path = tmp_path / "paypal.csv"
    path.write_text(PAYPAL)
    assert importing.import_file(engine, path, profile="paypal-activity").added == 3
    rows = stored(engine)
    payment = rows["id:5AB00001"]
    assert (payment.amount, payment.posted_on, payment.reference, payment.counterparty, payment.account_hint) == (
        12_500_000, date(2026, 10, 7), "INV-100", "Nile Voice", "C00004")
    assert classes(engine) == {"id:5AB00001": "", "id:5AB00004": "transfer", "id:5AB00005": ""}  # refund: customer's


STRIPE_PICKED = (  # a report whose columns were picked: no available_on / source_id, a BOM, CRLF, a quoted comma
    "\ufeffbalance_transaction_id,created,reporting_category,currency,gross,fee,net,charge_id,description\r\n"
    'txn_2A,2026-10-03 22:22:10,charge,eur,"1,000.00",-29.30,970.70,ch_0002,"Acme, Inc. ""monthly"" plan"\r\n'
    "txn_2B,2026-10-04 13:00:00,payout,eur,-970.70,0.00,-970.70,,STRIPE PAYOUT\r\n")


def test_a_stripe_report_with_other_picked_columns_reads_the_alternatives_and_says_what_it_lacks(engine, tmp_path):
    path = tmp_path / "stripe-picked.csv"
    path.write_bytes(STRIPE_PICKED.encode("utf-8"))
    with pytest.raises(importing.ImportRejected, match="1,000.00"):  # the profile's amounts have no thousands commas
        importing.import_file(engine, path, profile="stripe-balance")
    path.write_bytes(STRIPE_PICKED.replace('"1,000.00"', "1000.00").encode("utf-8"))
    result = importing.import_file(engine, path, profile="stripe-balance")
    assert result.added == 2
    assert result.warnings == ("no column available_on_utc or available_on (value date): read as empty",)
    charge = stored(engine)["id:txn_2A"]
    assert (charge.amount, charge.currency, charge.posted_on, charge.value_on, charge.reference, charge.description) == (
        10_000_000, "EUR", date(2026, 10, 3), None, "ch_0002", 'Acme, Inc. "monthly" plan')
    assert classes(engine) == {"id:txn_2A": "", "id:txn_2B": "payout"}


PAYPAL_OLDER = """\
"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","From Email Address","To Email Address","Transaction ID","Reference Txn ID","Invoice Number","Balance"
"10/07/2026","10:01:02","PDT","Nile Voice","Express Checkout Payment","Completed","USD","1,250.00","-43.55","1,206.45","ap@nile.example","billing@vos.example","5AB00001","","INV-100","1,206.45"
"10/07/2026","10:01:03","PDT","Nile Voice","Express Checkout Payment","Pending","USD","99.00","0.00","99.00","ap@nile.example","billing@vos.example","5AB00002","","INV-101","1,206.45"
"10/09/2026","08:00:00","PDT","","General Withdrawal - Bank Account","Completed","USD","-1,000.00","0.00","-1,000.00","","","5AB00004","","","206.45"
"""


def test_a_paypal_download_without_the_optional_columns_imports_with_warnings(engine, tmp_path):
    path = tmp_path / "paypal-older.csv"
    path.write_text(PAYPAL_OLDER)
    result = importing.import_file(engine, path, profile="paypal-activity")
    assert result.added == 2
    assert result.warnings == ("no column Custom Number (account): read as empty",
                               "no column Balance Impact: rows are not skipped by it (skip_when)",
                               "no column Balance Impact: the amounts' signs are not checked against it (sign_check)")
    rows = stored(engine)
    assert (rows["id:5AB00001"].amount, rows["id:5AB00001"].account_hint, rows["id:5AB00004"].amount) == (
        12_500_000, "", -10_000_000)
    assert classes(engine) == {"id:5AB00001": "", "id:5AB00004": "transfer"}


@pytest.mark.parametrize("line, edited, named", [
    (2, ('"1,250.00","-43.55","1,206.45"', '"-1,250.00","-43.55","-1,293.55"'),  # Credit with a negative Gross
     "Gross '-1,250.00' is money out, while Balance Impact says 'Credit' (money in)"),
    (6, ('"-50.00","1.45","-48.55"', '"50.00","1.45","51.45"'),  # Debit with a positive Gross
     "Gross '50.00' is money in, while Balance Impact says 'Debit' (money out)"),
    (5, ('"206.45","Debit"', '"206.45",""'),  # saying neither way
     "Balance Impact: '' is neither money in (credit) nor money out (debit)"),
])
def test_a_paypal_row_whose_balance_impact_contradicts_the_sign_of_gross_refuses_the_file(engine, tmp_path, line,
                                                                                          edited, named):
    path = tmp_path / "paypal.csv"
    rows = PAYPAL.splitlines()
    rows[line - 1] = rows[line - 1].replace(*edited)
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(importing.ImportRejected) as raised:
        importing.import_file(engine, path, profile="paypal-activity")
    assert [str(rejection) for rejection in raised.value.rejections] == [f"paypal.csv:{line}: {named}" + (
        "; add it to the profile's sign_check if it is one of them" if "neither" in named else
        ": which one is right cannot be told and a sign is never guessed; correct the row at the source and import "
        "the file again")]
    assert stored(engine) == {}


@pytest.mark.parametrize("drop, named", [
    ("Gross", "Gross"),  # the amount
    ("Transaction ID", "Transaction ID"),  # what tells two payments apart
    ("Currency", "Currency"),
])
def test_a_gateway_export_without_a_column_that_decides_money_is_refused(engine, tmp_path, drop, named):
    header = PAYPAL.splitlines()[0].split(",")
    path = tmp_path / "paypal.csv"
    path.write_text(",".join(cell for cell in header if cell != f'"{drop}"') + "\n")
    with pytest.raises(importing.StatementFileError, match=re.escape(f"column(s) {named} missing")):
        importing.import_file(engine, path, profile="paypal-activity")


def test_a_profile_maps_a_role_to_one_header_or_to_a_list_of_them(tmp_path):
    base = {"name": "p", "channel": "gateway", "currency": "USD"}
    assert profiles.from_mapping({**base, "columns": {"date": ["Booked", "Date"], "amount": "Amount"}}).columns == {
        "date": ("Booked", "Date"), "amount": ("Amount",)}
    for bad, named in (({"date": [], "amount": "Amount"}, "columns.date is []; give a column header"),
                       ({"date": ["Date", 3], "amount": "Amount"}, "columns.date holds 3, not a column header"),
                       ({"date": " ", "amount": "Amount"}, "columns.date holds ' ', not a column header"),
                       ({"date": "Date", "amount": {"a": "b"}}, "columns.amount is {'a': 'b'}; give a column header"),
                       (["date"], "columns maps a role")):
        with pytest.raises(profiles.ProfileError, match=re.escape(named)):
            profiles.from_mapping({**base, "columns": bad})


BANK = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId>
<CreDtTm>2026-11-01T00:00:00</CreDtTm></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>AE070331234567890123456</IBAN></Id>
<Ccy>USD</Ccy></Acct>
<Ntry><Amt Ccy="USD">15.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-31</Dt></BookgDt>
<AcctSvcrRef>F1</AcctSvcrRef><BkTxCd><Domn><Cd>ACMT</Cd><Fmly><Cd>MDOP</Cd><SubFmlyCd>CHRG</SubFmlyCd></Fmly></Domn></BkTxCd>
</Ntry>
<Ntry><Amt Ccy="USD">9000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-20</Dt></BookgDt>
<AcctSvcrRef>F2</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>Transit One Carrier</Nm></Pty></Cdtr></RltdPties>
<RmtInf><Ustrd>Interconnect invoice 2026-09</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="USD">5000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-21</Dt></BookgDt>
<AcctSvcrRef>F3</AcctSvcrRef><AddtlNtryInf>Transfer to own account AE99</AddtlNtryInf></Ntry>
<Ntry><Amt Ccy="USD">250.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-06</Dt></BookgDt>
<AcctSvcrRef>F4</AcctSvcrRef><AddtlNtryInf>Refund to customer</AddtlNtryInf></Ntry>
<Ntry><Amt Ccy="USD">700.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-22</Dt></BookgDt>
<AcctSvcrRef>F5</AcctSvcrRef><AddtlNtryInf>Incoming, nobody recorded it</AddtlNtryInf></Ntry>
</Stmt></BkToCstmrStmt></Document>"""


def test_bank_debits_are_classified_by_the_bank_code_and_the_profile_rules(engine, tmp_path):
    path = tmp_path / "bank.xml"
    path.write_text(BANK)
    rules = tmp_path / "our-bank.yaml"
    rules.write_text((profiles.PROFILES_DIR / "bank-outgoing.yaml").read_text() + (
        "  - class: supplier\n    field: counterparty\n    text: \"^Transit One\"\n"))
    importing.import_file(engine, path, profile=str(rules))
    assert classes(engine) == {"ref:F1": "fee", "ref:F2": "supplier", "ref:F3": "transfer", "ref:F4": "",
                               "ref:F5": ""}
    assert json.loads(stored(engine)["ref:F1"].raw)["outgoing_rule"] == "bank code: bank_subfamily CHRG"


def test_without_a_profile_only_the_banks_own_fee_code_classifies(engine, tmp_path):
    path = tmp_path / "bank.xml"
    path.write_text(BANK)
    importing.import_file(engine, path)
    assert {key for key, found in classes(engine).items() if found} == {"ref:F1"}


def test_money_out_is_its_own_status_and_never_pairs_with_a_record():
    lines = [Line(1, "bank", 100, -150_000, key="fee", outgoing="fee"),
             Line(2, "bank", 100, -2_505_000, key="refund"),
             Line(3, "bank", 100, 7_000_000, key="unrecorded")]
    payments = [Payment(10, "bank", 100, -150_000, "C00001"),  # same amount and day as the fee, still not paired
                Payment(11, "bank", 100, -2_505_000, "C00003")]
    groups = {tuple(l.key for l in g.lines): (g.status, g.rule, [p.id for p in g.payments]) for g in match(lines, payments)}
    assert groups[("fee",)] == ("outgoing", "fee", [])
    assert groups[("refund",)][0] == "matched" and groups[("refund",)][2] == [11]
    assert groups[("unrecorded",)] == ("no_payment_record", "", [])  # only customer money is listed there
    assert groups[()] == ("no_money", "", [10])


def test_a_refund_the_rules_call_a_fee_pairs_with_the_withdrawal_whose_reference_and_amount_it_carries():
    """"Refund of overbilled call charges" matches a fee rule's words; the withdrawal record's own reference and
    exact amount say it is that customer's refund. Only both together: a fee with another amount stays a fee."""
    lines = [Line(1, "bank", 100, -750_000, reference="RF-9", description="Refund of call charges C00122",
                  key="refund", outgoing="fee"),
             Line(2, "bank", 100, -40_000, reference="RF-10", description="Service charges", key="charge",
                  outgoing="fee")]
    payments = [Payment(20, "bank", 100, -750_000, "C00122", reference="RF-9"),
                Payment(21, "bank", 101, -45_000, "C00123", reference="RF-10")]
    groups = {tuple(l.key for l in g.lines): g for g in match(lines, payments)}
    refund = groups[("refund",)]
    assert (refund.status, refund.rule, [p.id for p in refund.payments]) == ("matched", "reference", [20])
    assert refund.explanation == "reference RF-9 equal; amount -75.00 equal; the statement's rules called it fee"
    assert (groups[("charge",)].status, groups[("charge",)].payments) == ("outgoing", [])
    assert [p.id for p in groups[()].payments] == [21]


@pytest.mark.parametrize("rule, message", [
    ({"class": "fee"}, "give field with values, or text"),
    ({"class": "fee", "values": ["x"]}, "values needs a field"),
    ({"class": "fee", "text": "("}, "not a regular expression"),
    ({"class": "fee", "text": "x", "sign": "in"}, "sign is out or any"),
    ({"klass": "fee"}, "allowed keys"),
])
def test_a_bad_outgoing_rule_names_the_rule_and_the_fix(rule, message):
    good = {"name": "p", "channel": "bank", "columns": {"date": "D", "amount": "A"}}
    with pytest.raises(profiles.ProfileError, match=f"outgoing rule 1: .*{message}"):
        profiles.from_mapping({**good, "outgoing": [rule]})


def test_a_statement_rules_profile_maps_no_columns_and_refuses_a_csv(tmp_path, engine):
    with pytest.raises(profiles.ProfileError, match="maps no columns; remove columns"):
        profiles.from_mapping({"name": "r", "channel": "bank", "reads": "statement", "columns": {"date": "D"}})
    path = tmp_path / "bank.csv"
    path.write_text("Date,Amount\n2026-10-01,5\n")
    with pytest.raises(ValueError, match="holds rules for OFX/CAMT/MT940 statements"):
        importing.import_file(engine, path, profile="bank-outgoing")


def test_paypal_skip_rules_ignore_letter_case(engine, tmp_path):
    path = tmp_path / "paypal-case.csv"
    path.write_text(PAYPAL.replace('"Pending"', '"PENDING"').replace('"Memo"', '"memo"'))
    assert importing.import_file(engine, path, profile="paypal-activity").added == 3  # as with the usual case


def test_money_out_imported_without_the_rules_is_set_apart_when_matching_with_them(engine, tmp_path, capsys):
    """Forgetting --profile bank-outgoing once is mended at matching (the stored lines are never edited)."""
    from vosbench.commands import main

    db = ["--db", str(engine.url)]
    path = tmp_path / "bank.xml"
    path.write_text(BANK)
    assert main.main(["statements", "import", str(path), *db]) == 0
    assert main.main(["statements", "import", str(path), "--profile", "bank-outgoing", *db]) == 0
    out = capsys.readouterr().out
    assert ("5 line(s) already present keep the classes of their first import (lines are never edited): to set "
            "their money out apart by these rules, match with `vosbench match --month YYYY-MM --outgoing "
            "bank-outgoing`") in out

    def statuses(*extra: str) -> dict:
        assert main.main(["match", "--month", "2026-10", "--all", "--format", "json", *db, *extra]) == 0
        items = json.loads(capsys.readouterr().out)["items"]
        return {item["reference"]: (item["status"], item["rule"]) for item in items if item["reference"]}

    before, after = statuses(), statuses("--outgoing", "bank-outgoing")
    assert (before["F1"], before["F3"]) == (("outgoing", "fee"), ("no_payment_record", ""))
    assert after == {**before, "F3": ("outgoing", "transfer")}  # the refund (F4) is still the customer's
    assert main.main(["match", "--month", "2026-10", "--outgoing", "gateway", *db]) == 2
    assert "--outgoing gateway: the profile has no outgoing rules" in capsys.readouterr().err
    raw_rule = tmp_path / "raw.yaml"
    raw_rule.write_text("name: raw\nreads: statement\nchannel: bank\noutgoing:\n"
                        "  - class: fee\n    field: bank_proprietary\n    values: [CHG]\n")
    assert main.main(["match", "--month", "2026-10", "--outgoing", str(raw_rule), *db]) == 2
    assert "outgoing rule 1 (fee) reads the field 'bank_proprietary' of the source" in capsys.readouterr().err
