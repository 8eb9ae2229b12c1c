"""Statements as banks really send them: sloppy OFX, CAMT references and batches, camt.052/054, MT940/942.

Every fixture is written inline, shaped like real banks' exports (not copied from any).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from vosbench.ledger import setup, tables
from vosbench.ledger.write_door import ImportRejected
from vosbench.sources.bankfiles import importing
from vosbench.sources.bankfiles.lines import StatementFileError

HEADER = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
          "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n")


@pytest.fixture
def engine(tmp_path):
    return setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone="Asia/Dubai")


def stored(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(tables.statement_lines).order_by(tables.statement_lines.c.id)).all()


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# --- OFX: what real banks bend ---------------------------------------------------------------------------

CARD_WITHOUT_BALANCE = HEADER + """<OFX>
 <SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261101<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
 <CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>0<STATUS><CODE>0<SEVERITY>INFO</STATUS>
  <CCSTMTRS><CURDEF>AUD<CCACCTFROM><ACCTID>4000123412341234</CCACCTFROM>
   <BANKTRANLIST><DTSTART>20261001<DTEND>20261031
    <STMTTRN><TRNTYPE>PAYMENT<DTPOSTED>20261003120000[+10:AEST]<TRNAMT>200,00<FITID>CC-1<NAME>Payment &amp; thanks</NAME></STMTTRN>
    <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261004<TRNAMT>-35.10<FITID>CC-2<PAYEE><NAME>Cloud Hosting Pty<ADDR1>1 St</PAYEE>
   </BANKTRANLIST>
  </CCSTMTRS>
 </CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
"""


def test_a_card_statement_without_balance_with_a_bom_and_decimal_comma_imports_with_warnings(engine, tmp_path):
    path = write(tmp_path, "card.qfx", b"\xef\xbb\xbf" + CARD_WITHOUT_BALANCE.encode("ascii"))
    result = importing.import_file(engine, path)
    assert (result.format, result.statements, result.added) == ("ofx", 1, 2)
    assert any("byte-order mark" in w for w in result.warnings)
    assert any("no balance (LEDGERBAL)" in w for w in result.warnings)
    rows = stored(engine)
    assert [(r.statement_account, r.posted_on, r.amount, r.currency, r.counterparty) for r in rows] == [
        ("4000123412341234", date(2026, 10, 3), 2_000_000, "AUD", "Payment & thanks"),
        ("4000123412341234", date(2026, 10, 4), -351_000, "AUD", "Cloud Hosting Pty")]  # PAYEE/NAME
    assert '"dtposted": "2026-10-03T02:00:00+00:00"' in rows[0].raw
    assert importing.import_file(engine, path).added == 0  # idempotent

def test_an_ofx_that_gives_two_transactions_one_fitid_imports_both_and_a_repeated_one_once(engine, tmp_path):
    """Some banks reuse a FITID within one download (Brazilian banks write the day and a cheque number).

    Two different transactions under one FITID in the same file are two transactions, not one edited:
    both are read, the second keyed by its FITID and occurrence, with a warning. The same transaction
    written twice (overlapping statements in one file) is still one line.
    """
    text = CARD_WITHOUT_BALANCE.replace("<FITID>CC-2", "<FITID>CC-1")
    overlap = text.replace("</BANKTRANLIST>", "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261004<TRNAMT>-35.10<FITID>CC-1"
                                              "<PAYEE><NAME>Cloud Hosting Pty<ADDR1>1 St</PAYEE></BANKTRANLIST>")
    result = importing.import_file(engine, write(tmp_path, "reused.ofx", overlap))
    assert (result.added, result.skipped) == (2, 1) and any("same FITID" in w for w in result.warnings)
    assert [(r.amount, r.line_key) for r in stored(engine)] == [(2_000_000, "fitid:CC-1"), (-351_000, "fitid:CC-1#2")]
    assert importing.import_file(engine, write(tmp_path, "reused.ofx", overlap)).added == 0



def test_a_bare_less_than_sign_in_an_sgml_memo_is_said_to_cut_the_value(engine, tmp_path):
    text = CARD_WITHOUT_BALANCE.replace("<NAME>Payment &amp; thanks</NAME>", "<NAME>Payment<MEMO>price < 5 and x<y")
    result = importing.import_file(engine, write(tmp_path, "card.qfx", text))
    assert result.added == 2
    assert any("bare '<' was cut" in w for w in result.warnings)
    clean = importing.import_file(engine, write(tmp_path, "clean.qfx", CARD_WITHOUT_BALANCE.replace("CC-", "OK-")))
    assert not any("bare '<'" in w for w in clean.warnings)


def test_a_long_bankid_and_leaf_end_tags_and_a_forgotten_stmttrn_end_are_read(engine, tmp_path):
    text = HEADER + """<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>BRL</CURDEF><BANKACCTFROM><BANKID>0341234567890</BANKID><BRANCHID>1234<ACCTID>98765-4</ACCTID>
<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261001<DTEND>20261031
<stmttrn><trntype>CREDIT<dtposted>20261010<trnamt>1234.56<fitid>BR-1<memo>PIX RECEBIDO
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261011<TRNAMT>-10.00<FITID>BR-2<MEMO></STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1224.56<DTASOF>20261031</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"""
    result = importing.import_file(engine, write(tmp_path, "br.ofx", text))
    assert result.added == 2
    assert any("BANKID '0341234567890' is longer than the 9" in w for w in result.warnings)
    assert any("STMTTRN) was not closed" in w for w in result.warnings)
    rows = stored(engine)
    assert [(r.line_key, r.amount, r.description) for r in rows] == [
        ("fitid:BR-1", 12_345_600, "PIX RECEBIDO"), ("fitid:BR-2", -100_000, "")]


def test_ofx_v2_xml_reads_like_sgml(engine, tmp_path):
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" '
            'OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>'
            '<STMTRS><CURDEF>USD</CURDEF><BANKACCTFROM><BANKID>121000248</BANKID><ACCTID>555</ACCTID>'
            '<ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM><BANKTRANLIST><DTSTART>20261001</DTSTART>'
            '<DTEND>20261031</DTEND><STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20261002</DTPOSTED>'
            '<TRNAMT>99.99</TRNAMT><FITID>X1</FITID><NAME>Nile Voice</NAME><REFNUM>C00004</REFNUM></STMTTRN>'
            '</BANKTRANLIST><LEDGERBAL><BALAMT>99.99</BALAMT><DTASOF>20261031</DTASOF></LEDGERBAL></STMTRS>'
            '</STMTTRNRS></BANKMSGSRSV1></OFX>')
    assert importing.import_file(engine, write(tmp_path, "v2.ofx", text)).warnings == ()
    row = stored(engine)[0]
    assert (row.amount, row.reference, row.counterparty, row.statement_id) == (
        999_900, "C00004", "Nile Voice", "555:2026-10-01..2026-10-31")


INVESTMENT = """<INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>9<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<INVSTMTRS><DTASOF>20261031<CURDEF>USD<INVACCTFROM><BROKERID>broker.example<ACCTID>INV-1</INVACCTFROM>
<INVTRANLIST><DTSTART>20261001<DTEND>20261031
<BUYSTOCK><INVBUY><INVTRAN><FITID>T1<DTTRADE>20261005</INVTRAN><SECID><UNIQUEID>123<UNIQUEIDTYPE>CUSIP</SECID>
<UNITS>10<UNITPRICE>5<TOTAL>-50</INVBUY><BUYTYPE>BUY</BUYSTOCK>
<INVBANKTRAN><STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261006<TRNAMT>500<FITID>CASH1</STMTTRN><SUBACCTFUND>CASH</INVBANKTRAN>
</INVTRANLIST></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1>"""


def test_an_investment_statement_is_refused_in_one_line_or_skipped_beside_a_bank_statement(engine, tmp_path):
    only = write(tmp_path, "broker.ofx", HEADER + "<OFX>" + INVESTMENT + "</OFX>")
    with pytest.raises(StatementFileError, match=r"^broker.ofx: holds only investment statements \(INVSTMTRS\)"):
        importing.import_file(engine, only)
    both = CARD_WITHOUT_BALANCE.replace("</OFX>", INVESTMENT + "</OFX>")
    result = importing.import_file(engine, write(tmp_path, "both.ofx", both))
    assert result.added == 2 and any("1 investment statement(s)" in w for w in result.warnings)
    assert {r.line_key for r in stored(engine)} == {"fitid:CC-1", "fitid:CC-2"}  # not the broker's cash


def test_a_statement_without_a_transaction_list_imports_nothing_and_says_so(engine, tmp_path):
    text = HEADER + ("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>7"
                     "<ACCTTYPE>CHECKING</BANKACCTFROM><LEDGERBAL><BALAMT>5<DTASOF>20261031</LEDGERBAL></STMTRS>"
                     "</STMTTRNRS></BANKMSGSRSV1></OFX>")
    result = importing.import_file(engine, write(tmp_path, "empty.ofx", text))
    assert (result.statements, result.added, result.outcome) == (1, 0, "unchanged")
    assert any("no transaction list (BANKTRANLIST)" in w for w in result.warnings)


def test_a_decimal_comma_and_a_positive_debit_are_read_as_written_with_a_warning(engine, tmp_path):
    text = CARD_WITHOUT_BALANCE.replace("<TRNAMT>-35.10", "<TRNAMT>35.10")  # the DEBIT with a positive amount
    result = importing.import_file(engine, write(tmp_path, "card.ofx", text))
    assert [r.amount for r in stored(engine)] == [2_000_000, 351_000]  # 200,00 and +35.10: never a guessed sign
    assert any("decimal comma (200,00)" in w for w in result.warnings)
    assert any("outgoing type" in w and "positive TRNAMT" in w for w in result.warnings)


@pytest.mark.parametrize("piece", [1 << 20, 64])  # 64 bytes: every comment crosses the pieces the file is read in
def test_commented_out_tags_are_not_part_of_the_statement(engine, tmp_path, monkeypatch, piece):
    from vosbench.sources.bankfiles import ofx

    monkeypatch.setattr(ofx, "_PIECE", piece)
    # a bank (or a hand) commented out a whole transaction and another's amount; a comment also holds a '<'
    text = (CARD_WITHOUT_BALANCE
            .replace("<STMTTRN><TRNTYPE>PAYMENT", "<!-- <STMTTRN><TRNTYPE>PAYMENT")
            .replace("thanks</NAME></STMTTRN>", "thanks</NAME></STMTTRN> price < 5 -->")
            .replace("<TRNAMT>-35.10", "<!--<TRNAMT>-35.10-->"))
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, write(tmp_path, "card.ofx", text))
    assert [(r.line, "TRNAMT is missing" in r.reason) for r in caught.value.rejections] == [(1, True)]
    assert "CC-2" in caught.value.rejections[0].reason  # the only transaction left is the second
    result = importing.import_file(engine, write(tmp_path, "card.ofx", text.replace("<!--<TRNAMT>-35.10-->",
                                                                                  "<TRNAMT>-35.10")))
    assert result.added == 1 and [(r.line_key, r.amount) for r in stored(engine)] == [("fitid:CC-2", -351_000)]


XML_STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STMTRS><CURDEF>EUR</CURDEF>
<BANKACCTFROM><BANKID>1</BANKID><ACCTID>NL91ABNA0417164300</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
<BANKTRANLIST><DTSTART>20261001</DTSTART><DTEND>20261031</DTEND>
<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20261003</DTPOSTED><TRNAMT>120.00</TRNAMT><FITID>X-1</FITID>
<NAME><![CDATA[Smith & Sons <Telecom>]]></NAME><MEMO><![CDATA[invoice 7 <paid> & closed]]></MEMO></STMTTRN>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20261004</DTPOSTED><TRNAMT>-5.00</TRNAMT><FITID>X-2</FITID>
<NAME>Bank &amp; fees</NAME></STMTTRN>
</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


@pytest.mark.parametrize("piece", [1 << 20, 173, 190])  # 173, 190: a piece ends inside the first, the second section
def test_cdata_names_and_memos_are_read_as_their_text(engine, tmp_path, monkeypatch, piece):
    from vosbench.sources.bankfiles import ofx

    monkeypatch.setattr(ofx, "_PIECE", piece)
    result = importing.import_file(engine, write(tmp_path, "cdata.ofx", XML_STATEMENT))
    assert result.added == 2
    lines = stored(engine)
    assert [(r.counterparty, r.description) for r in lines][0] == ("Smith & Sons <Telecom>", "invoice 7 <paid> & closed")
    assert lines[1].counterparty == "Bank & fees"
    assert not any("bare '<'" in w for w in result.warnings)


def test_a_cdata_section_never_closed_refuses_the_file(engine, tmp_path):
    text = XML_STATEMENT.replace("& closed]]>", "& closed")
    with pytest.raises(StatementFileError, match=r"a CDATA section .* is never closed"):
        importing.import_file(engine, write(tmp_path, "cdata.ofx", text))
    assert stored(engine) == []


def test_an_error_answer_instead_of_a_statement_is_refused_quoting_the_bank(engine, tmp_path):
    text = HEADER + ("<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261101"
                     "<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>7<STATUS><CODE>2000"
                     "<SEVERITY>ERROR<MESSAGE>General Server Error</STATUS></STMTTRNRS></BANKMSGSRSV1></OFX>")
    with pytest.raises(StatementFileError, match="answered with an error instead of a statement .*'2000 General "
                                                 "Server Error'.*download the statement again"):
        importing.import_file(engine, write(tmp_path, "answer.ofx", text))


def test_a_comment_never_closed_refuses_the_file(engine, tmp_path):
    text = CARD_WITHOUT_BALANCE.replace("<STMTTRN><TRNTYPE>DEBIT", "<!-- <STMTTRN><TRNTYPE>DEBIT")
    with pytest.raises(StatementFileError, match="a comment .* is never closed"):
        importing.import_file(engine, write(tmp_path, "card.ofx", text))
    assert stored(engine) == []


@pytest.mark.parametrize("change, line, field", [
    (("<TRNAMT>200,00", "<TRNAMT>2O0.00"), 1, "TRNAMT: '2O0.00' is not a number"),
    (("<TRNAMT>200,00", "<TRNAMT>2e2"), 1, "TRNAMT: '2e2' is not a number written as decimal text"),  # never 200
    (("<TRNAMT>200,00", "<TRNAMT>NaN"), 1, "TRNAMT: 'NaN' is not a number"),
    (("<TRNAMT>200,00", "<TRNAMT>200.00001"), 1, "TRNAMT: '200.00001' has more than 4 decimal places"),
    (("<TRNAMT>200,00", "<TRNAMT>1,000"), 1, "TRNAMT '1,000': a comma is read only as a decimal comma"),  # 1 or 1000?
    (("<TRNAMT>200,00", "<TRNAMT>-1,000"), 1, "a thousands separator is not an amount"),
    (("<TRNAMT>200,00", "<TRNAMT>\u0661\u0662\u0663"), 1, "is not a number"),  # Arabic-Indic digits
    (("<TRNAMT>200,00", "<TRNAMT>\uff15"), 1, "is not a number"),  # a full-width 5
    (("<TRNAMT>-35.10", ""), 2, "TRNAMT is missing"),
    (("<DTPOSTED>20261004", "<DTPOSTED>20261304"), 2, "DTPOSTED '20261304' is not a date"),
    (("<CURDEF>AUD", ""), 1, "currency is missing"),
    (("<TRNAMT>200,00", "<TRNAMT>" + "9" * 400), 1, "TRNAMT '99999999999999999999'… (400 characters) is not an amount"),
])
def test_a_bad_transaction_is_rejected_naming_file_transaction_and_field(engine, tmp_path, change, line, field):
    path = write(tmp_path, "card.ofx", CARD_WITHOUT_BALANCE.replace(*change))
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, path)
    rejection = caught.value.rejections[0]
    assert (rejection.file, rejection.line) == ("card.ofx", line) and field in rejection.reason
    assert f"transaction {line} (FITID CC-{line})" in rejection.reason
    assert stored(engine) == []


@pytest.mark.parametrize("text, message", [
    ("OFXHEADER:100\nDATA:OFXSGML\nthis is no statement", "card.ofx: not an OFX/QFX file (no <OFX> element)"),
    (CARD_WITHOUT_BALANCE[:CARD_WITHOUT_BALANCE.index("<FITID>CC-2")], "ends inside <STMTTRN> (transaction 2)"),
])
def test_a_broken_ofx_is_refused_in_one_line(engine, tmp_path, text, message):
    with pytest.raises(StatementFileError) as caught:
        importing.import_file(engine, write(tmp_path, "card.ofx", text))
    assert message in str(caught.value) and "\n" not in str(caught.value)


# --- CAMT: references, batches, offsets, 052 and 054 ----------------------------------------------------

def camt(kind: str, version: str, entries: str, *, wrapper: str = "", holder: str = "") -> str:
    wrapper = wrapper or {"053": "BkToCstmrStmt", "052": "BkToCstmrAcctRpt", "054": "BkToCstmrDbtCdtNtfctn"}[kind]
    holder = holder or {"053": "Stmt", "052": "Rpt", "054": "Ntfctn"}[kind]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}'
            f'.001.{version}"><{wrapper}><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-01T06:00:00+01:00</CreDtTm>'
            f'</GrpHdr><{holder}><Id>S1</Id><Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>'
            f'{entries}</{holder}></{wrapper}></Document>')


BATCH = """<Ntry><Amt Ccy="CHF">350.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-10-01+02:00</Dt></BookgDt><ValDt><Dt>2026-10-01+02:00</Dt></ValDt>
<AcctSvcrRef>BATCH-77</AcctSvcrRef><AddtlNtryInf>SAMMELGUTSCHRIFT</AddtlNtryInf>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><AcctSvcrRef>T-1</AcctSvcrRef><EndToEndId>E2E-A</EndToEndId></Refs>
 <AmtDtls><TxAmt><Amt Ccy="CHF">100.00</Amt></TxAmt></AmtDtls>
 <RltdPties><Dbtr><Nm>Acme Trading LLC</Nm></Dbtr></RltdPties>
 <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp><Ref>210000000003139471430009017</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
<TxDtls><Refs><AcctSvcrRef>T-2</AcctSvcrRef><EndToEndId>E2E-B</EndToEndId></Refs>
 <AmtDtls><TxAmt><Amt Ccy="CHF">200.00</Amt></TxAmt></AmtDtls>
 <RltdPties><Dbtr><Nm>Nile Voice</Nm></Dbtr></RltdPties><RmtInf><Ustrd>C00004 top-up</Ustrd></RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
 <AmtDtls><TxAmt><Amt Ccy="CHF">50.00</Amt></TxAmt></AmtDtls>
 <RltdPties><Dbtr><Nm>Blue Sky Telecom</Nm></Dbtr></RltdPties><RmtInf><Ustrd>C00003</Ustrd></RmtInf></TxDtls>
</NtryDtls></Ntry>"""


def test_a_batched_camt_v04_entry_is_split_into_its_transactions_keeping_the_entry(engine, tmp_path):
    result = importing.import_file(engine, write(tmp_path, "ch.xml", camt("053", "04", BATCH)))
    assert (result.format, result.added) == ("camt053.04", 3)
    rows = stored(engine)
    assert [(r.posted_on, r.amount, r.reference, r.counterparty, r.line_key) for r in rows] == [
        (date(2026, 10, 1), 1_000_000, "210000000003139471430009017", "Acme Trading LLC", "ref:BATCH-77/1"),
        (date(2026, 10, 1), 2_000_000, "E2E-B", "Nile Voice", "ref:BATCH-77/2"),
        (date(2026, 10, 1), 500_000, "BATCH-77", "Blue Sky Telecom", "ref:BATCH-77/3")]
    assert rows[1].description == "C00004 top-up / SAMMELGUTSCHRIFT"
    raw = json.loads(rows[0].raw)
    assert raw["entry"]["acctsvcrref"] == "BATCH-77" and raw["part"] == "1/3"
    assert raw["refs"] == {"AcctSvcrRef": "T-1", "EndToEndId": "E2E-A"}
    assert importing.import_file(engine, write(tmp_path, "ch.xml", camt("053", "04", BATCH))).added == 0


def test_each_transaction_of_a_batch_meets_its_own_record(tmp_path):
    from ledger_text import ledger_from_text

    from vosbench.analysis.matching import review

    ledger = ledger_from_text(tmp_path / "book", timezone="Europe/Zurich", accounts="""
        account,name,kind,currency
        C00001,Acme Trading LLC,customer,CHF
        C00003,Blue Sky Telecom,customer,CHF
        C00004,Nile Voice,customer,CHF
    """, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference
        a,C00001,deposit,100.00,2026-10-01T09:00:00+02:00,clerk,admin,bank_wire,210000000003139471430009017
        b,C00004,deposit,200.00,2026-10-01T09:05:00+02:00,clerk,admin,bank_wire,E2E-B
        c,C00003,deposit,50.00,2026-10-01T09:10:00+02:00,clerk,admin,bank_wire,
    """)
    assert importing.import_file(ledger, write(tmp_path, "ch.xml", camt("053", "04", BATCH))).added == 3
    groups = review.run_month(ledger, "2026-10").groups
    paired = sorted((g.status, [line.amount for line in g.lines], [p.amount for p in g.payments]) for g in groups)
    assert paired == [("matched", [amount], [amount]) for amount in (500_000, 1_000_000, 2_000_000)]  # one by one, 1:1


def test_a_camt_statement_whose_entries_do_not_make_its_closing_balance_is_read_with_a_warning(engine, tmp_path):
    def balances(closing: str) -> str:
        return "".join(f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{amount}</Amt>'
                       f"<CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>2026-10-01</Dt></Dt></Bal>"
                       for code, amount, sign in (("OPBD", "20.00", "DBIT"), ("CLBD", closing, "CRDT")))

    whole = importing.import_file(engine, write(tmp_path, "whole.xml", camt("053", "04", balances("330.00") + BATCH)))
    assert whole.added == 3 and not [w for w in whole.warnings if "balances move" in w]  # -20 + 350 = 330
    cut = camt("053", "04", balances("380.00") + BATCH).replace("<Id>S1</Id>", "<Id>S2</Id>")
    result = importing.import_file(engine, write(tmp_path, "cut.xml", cut))
    assert [w for w in result.warnings if "balances move" in w] == [
        "statement 1: its entries move 350.00 but its balances move 400.00 (opening -20.00, closing 380.00): entries "
        "may be missing or the statement cut short; check it against the bank's own view"]


def test_a_batch_whose_amounts_do_not_add_up_stays_one_line(engine, tmp_path):
    text = camt("053", "04", BATCH.replace('<Amt Ccy="CHF">50.00</Amt>', '<Amt Ccy="CHF">49.00</Amt>'))
    result = importing.import_file(engine, write(tmp_path, "ch.xml", text))
    assert result.added == 1 and any("do not add up" in w for w in result.warnings)
    row = stored(engine)[0]
    raw = json.loads(row.raw)
    assert (row.amount, row.reference) == (3_500_000, "210000000003139471430009017")  # the one structured ref
    assert raw["end_to_end_ids"] == ["E2E-A", "E2E-B"] and raw["remittance"] == ["C00004 top-up", "C00003"]


def test_camt_054_and_052_read_through_the_same_reader(engine, tmp_path):
    credit = """<Ntry><NtryRef>N-1</NtryRef><Amt Ccy="CHF">75.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2026-10-20T23:10:00+02:00</DtTm></BookgDt>
    <NtryDtls><TxDtls><Amt Ccy="CHF">75.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Refs><EndToEndId>E2E-9</EndToEndId></Refs>
    <RltdPties><Dbtr><Pty><Nm>Nile Voice</Nm></Pty></Dbtr></RltdPties></TxDtls></NtryDtls></Ntry>"""
    pending = """<Ntry><Amt Ccy="CHF">9.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
    <BookgDt><Dt>2026-10-21</Dt></BookgDt></Ntry>"""
    notification = importing.import_file(engine, write(tmp_path, "n.xml", camt("054", "08", credit + pending)))
    assert (notification.format, notification.added) == ("camt054.08", 1)
    assert any("1 entr(y/ies) not booked" in w for w in notification.warnings)
    report = importing.import_file(engine, write(tmp_path, "r.xml", camt("052", "02", credit)))
    assert (report.format, report.added, report.skipped) == ("camt052.02", 0, 1)  # the same booking, once
    row = stored(engine)[0]
    assert (row.posted_on, row.amount, row.reference, row.counterparty) == (
        date(2026, 10, 20), 750_000, "E2E-9", "Nile Voice")


def test_a_notification_then_the_months_statement_telling_the_entry_with_more_text_imports_the_rest(engine, tmp_path):
    """camt.054 per incoming payment, then the month's camt.053: the same booked entry comes again, same reference
    and money, now with a bank code and more text; the statement's other entries must still come in."""
    told = """<Ntry><AcctSvcrRef>FLOW-1</AcctSvcrRef><Amt Ccy="CHF">425.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts>BOOK</Sts><BookgDt><Dt>2026-10-20</Dt></BookgDt>{more}
    <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Gamma Ltd</Nm></Dbtr></RltdPties><RmtInf><Ustrd>Top-up C00033</Ustrd></RmtInf>
    </TxDtls></NtryDtls></Ntry>"""
    first = told.format(more="")
    again = told.format(more="<BkTxCd><Prtry><Cd>PMNT/RCDT/ESCT</Cd></Prtry></BkTxCd><AddtlNtryInf>SEPA CREDIT "
                             "TRANSFER</AddtlNtryInf>")
    new_entry = """<Ntry><AcctSvcrRef>FLOW-2</AcctSvcrRef><Amt Ccy="CHF">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts>BOOK</Sts><BookgDt><Dt>2026-10-28</Dt></BookgDt><AddtlNtryInf>C00034</AddtlNtryInf></Ntry>"""
    assert importing.import_file(engine, write(tmp_path, "n.xml", camt("054", "02", first))).added == 1
    statement = importing.import_file(engine, write(tmp_path, "s.xml", camt("053", "02", again + new_entry)))
    assert (statement.added, statement.skipped) == (1, 1)
    assert statement.warnings == ("lines already kept (same transaction id, amount and currency) are told here with "
                                  "another description (1 line): the first telling is kept, since statement lines "
                                  "are never edited",)
    rows = stored(engine)
    assert [(r.line_key, r.amount, r.description) for r in rows] == [
        ("ref:FLOW-1", 4_250_000, "Top-up C00033"), ("ref:FLOW-2", 990_000, "C00034")]
    with engine.connect() as connection:  # kept with the import that added the new entry, like every warning
        assert connection.scalars(sa.select(tables.statement_import_warnings.c.warning)).all() == list(
            statement.warnings)


def test_a_currency_that_is_no_iso_4217_currency_imports_as_written_with_a_warning(engine, tmp_path):
    text = HEADER + ("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>XXY<BANKACCTFROM><BANKID>1<ACCTID>CUR1"
                     "<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261001<DTEND>20261031<STMTTRN>"
                     "<TRNTYPE>CREDIT<DTPOSTED>20261003<TRNAMT>25000.00<FITID>X1</STMTTRN></BANKTRANLIST></STMTRS>"
                     "</STMTTRNRS></BANKMSGSRSV1></OFX>")
    result = importing.import_file(engine, write(tmp_path, "xxy.ofx", text))
    assert [(r.amount, r.currency) for r in stored(engine)] == [(250_000_000, "XXY")]
    assert any(w.startswith("currency XXY is no ISO 4217 currency of money") for w in result.warnings)
    usd = importing.import_file(engine, write(tmp_path, "usd.ofx", text.replace("XXY", "USD").replace("CUR1", "CUR2")))
    assert not any("ISO 4217" in w for w in usd.warnings)


@pytest.mark.parametrize("day", ["00010101", "18991231", "99991231"])
def test_a_line_dated_where_no_month_can_be_matched_is_refused(engine, tmp_path, day):
    text = HEADER + ("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>D1"
                     "<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261001<DTEND>20261031<STMTTRN>"
                     f"<TRNTYPE>CREDIT<DTPOSTED>{day}<TRNAMT>25.00<FITID>X1</STMTTRN></BANKTRANLIST></STMTRS>"
                     "</STMTTRNRS></BANKMSGSRSV1></OFX>")
    with pytest.raises(ImportRejected, match=rf"d.ofx:\d+: posted date {day[:4]}-{day[4:6]}-{day[6:]} is outside "
                                             "1900-9998"):
        importing.import_file(engine, write(tmp_path, "d.ofx", text))
    assert stored(engine) == []


def test_a_redownloaded_ofx_whose_pending_line_settled_under_its_fitid_adds_only_the_new_money(engine, tmp_path):
    def ofx(lines: str) -> str:
        return HEADER + ("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1"
                         "<ACCTID>OVL1<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261001<DTEND>20261031"
                         f"{lines}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>")
    one = "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261013<TRNAMT>100.00<FITID>OV1<NAME>Payer A</STMTTRN>"
    pending = "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261014<TRNAMT>200.00<FITID>OV2<NAME>PAYER B PENDING</STMTTRN>"
    settled = ("<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261015<TRNAMT>200.00<FITID>OV2<NAME>Payer B Ltd"
               "<MEMO>C00111 settled</STMTTRN>")
    added = "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261016<TRNAMT>300.00<FITID>OV3<NAME>Payer C</STMTTRN>"
    importing.import_file(engine, write(tmp_path, "a.ofx", ofx(one + pending)))
    later = importing.import_file(engine, write(tmp_path, "b.ofx", ofx(one + settled + added)))
    assert (later.added, later.skipped) == (1, 2)
    assert "another counterparty (1 line), description (1 line), posted date (1 line)" in later.warnings[-1]
    assert [(r.line_key, r.posted_on, r.amount, r.counterparty) for r in stored(engine)] == [
        ("fitid:OV1", date(2026, 10, 13), 1_000_000, "Payer A"), ("fitid:OV2", date(2026, 10, 14), 2_000_000,
                                                                  "PAYER B PENDING"),
        ("fitid:OV3", date(2026, 10, 16), 3_000_000, "Payer C")]
    # the same id with other money is another transaction or a wrong export: refused, both amounts said
    with pytest.raises(ImportRejected, match=r"c.ofx:1: transaction fitid:OV2 of OVL1 is in the ledger as 200.00 USD "
                                             r"and here as 250.00 USD; statement lines are never edited"):
        importing.import_file(engine, write(tmp_path, "c.ofx", ofx(settled.replace("200.00", "250.00"))))


def test_a_camt_entry_whose_only_transaction_goes_the_other_way_is_refused(engine, tmp_path):
    entry = """<Ntry><AcctSvcrRef>X-1</AcctSvcrRef><Amt Ccy="CHF">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-20</Dt></BookgDt>
    <NtryDtls><TxDtls><Amt Ccy="CHF">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls></NtryDtls></Ntry>"""
    with pytest.raises(ImportRejected, match=r"entry 1 \(X-1\): CdtDbtInd CRDT of the entry and of its only "
                                             "transaction"):
        importing.import_file(engine, write(tmp_path, "n.xml", camt("054", "08", entry)))
    assert stored(engine) == []


@pytest.mark.parametrize("text, message", [
    (camt("053", "04", BATCH).replace("camt.053.001.04", "camt.053.001.99"), "version 001.99 is not supported"),
    (camt("053", "04", BATCH).replace("urn:iso:std:iso:20022:tech:xsd:camt.053.001.04", "urn:example:camt.053"),
     "not a CAMT statement (element MsgId in namespace 'urn:example:camt.053')"),
    (camt("053", "04", BATCH)[:900], "not well-formed XML at line"),
    (camt("053", "04", BATCH).replace('encoding="UTF-8"', 'encoding="UTF-89"'), "cannot be read as XML"),
    ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>', "DOCTYPE or ENTITY"),
    (camt("053", "04", BATCH).replace("<Ustrd>", "<Ustrd>&undefined;", 1), "(undefined entity)"),
])
def test_a_broken_camt_is_refused_in_one_line(engine, tmp_path, text, message):
    with pytest.raises(StatementFileError) as caught:
        importing.import_file(engine, write(tmp_path, "bank.xml", text))
    assert message in str(caught.value) and str(caught.value).startswith("bank.xml: ")
    assert "\n" not in str(caught.value)


def test_a_bad_camt_entry_names_the_entry_and_the_field(engine, tmp_path):
    text = camt("053", "04", BATCH.replace("<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CRED</CdtDbtInd>", 1)
                + BATCH.replace("<Dt>2026-10-01+02:00</Dt></BookgDt>", "<Dt>2026-13-01</Dt></BookgDt>"))
    with pytest.raises(ImportRejected) as caught:
        importing.import_file(engine, write(tmp_path, "bank.xml", text))
    assert [(r.line, r.reason) for r in caught.value.rejections] == [
        (1, "entry 1 (BATCH-77): CdtDbtInd 'CRED' must be CRDT or DBIT"),
        (2, "entry 2 (BATCH-77): BookgDt '2026-13-01' is not a date in the form YYYY-MM-DD")]


def day_balances(*days: str) -> str:
    """A statement's opening and closing balances (OPBD, CLBD), dated ``days`` in turn."""
    return "".join(f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
                   f"<Dt><Dt>{day}</Dt></Dt></Bal>" for code, day in zip(("OPBD", "CLBD"), days))


UNDATED = """<Ntry><NtryRef>N-{n}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{way}</CdtDbtInd>
<AcctSvcrRef>R-{n}</AcctSvcrRef><BkTxCd><Prtry><Cd>SETTLE</Cd></Prtry></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch><TxDtls><Amt Ccy="EUR">{amount}</Amt></TxDtls></NtryDtls></Ntry>"""


def test_camt_entries_without_any_date_take_the_day_of_a_one_day_statement(engine, tmp_path):
    """A settlement account's daily camt.053 (as a central bank sends it): entries with no BookgDt, ValDt or Sts.

    Its opening and closing balances are both dated the same day, so the entries between them were booked
    that day: they are read with that date and a warning. A statement spanning days gives no such day.
    """
    entries = UNDATED.format(n=1, amount="828.50", way="CRDT") + UNDATED.format(n=2, amount="0.20", way="DBIT")
    result = importing.import_file(engine, write(tmp_path, "day.xml", camt("053", "08", day_balances(
        "2026-10-05", "2026-10-05") + entries)))
    assert result.added == 2 and any("no booking date" in w for w in result.warnings)
    assert [(r.posted_on, r.value_on, r.amount, r.line_key) for r in stored(engine)] == [
        (date(2026, 10, 5), None, 8_285_000, "ref:R-1"), (date(2026, 10, 5), None, -2_000, "ref:R-2")]
    with pytest.raises(ImportRejected, match=r"entry 1 \(R-1\): BookgDt is missing .*, and no ValDt or one-day statement gives a date"):
        importing.import_file(engine, write(tmp_path, "days.xml", camt("053", "08", day_balances(
            "2026-10-04", "2026-10-05") + entries)))


def test_a_camt_entry_without_a_booking_date_is_dated_by_its_value_date(engine, tmp_path):
    entry = UNDATED.format(n=1, amount="75.00", way="CRDT").replace(
        "<AcctSvcrRef>", "<ValDt><Dt>2026-10-06</Dt></ValDt><AcctSvcrRef>")
    result = importing.import_file(engine, write(tmp_path, "n.xml", camt("054", "08", entry)))
    assert result.added == 1 and any("no booking date" in w for w in result.warnings)
    row = stored(engine)[0]
    assert (row.posted_on, row.value_on, row.amount) == (date(2026, 10, 6), date(2026, 10, 6), 750_000)


def test_camt_entries_whose_bank_reference_is_nonref_are_told_apart_by_what_they_say(engine, tmp_path):
    """A German savings bank's camt.052 writes AcctSvcrRef NONREF on every entry: that is no reference.

    Keyed by it, the second entry looked like the first one edited and the whole file was refused.
    """
    entry = """<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-10-05</Dt></BookgDt><AcctSvcrRef>NONREF</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties><Cdtr><Nm>{name}</Nm></Cdtr>
    </RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
    text = camt("052", "02", entry.format(amount="30.00", name="Blue Carrier Ltd", text="Invoice 7")
                + entry.format(amount="26.00", name="Fuel Station", text="Card payment"))
    result = importing.import_file(engine, write(tmp_path, "intraday.xml", text))
    assert result.added == 2
    rows = stored(engine)
    assert [(r.amount, r.reference, r.counterparty) for r in rows] == [
        (-300_000, "", "Blue Carrier Ltd"), (-260_000, "", "Fuel Station")]
    assert all(r.line_key.startswith("h:") for r in rows)  # keyed by what the line says
    assert importing.import_file(engine, write(tmp_path, "intraday.xml", text)).added == 0


# --- SWIFT MT940 / MT942 ----------------------------------------------------------------------------------

MT940 = """{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
:20:STMT261005
:25:DE89370400440532013000
:28C:00190/001
:60F:C261004EUR1000,00
:61:2610051005CR1500,00NTRFNONREF//B6K05-0001
:86:/EREF/C00001-OCT/NAME/ACME TRADING LLC/REMI/Top-up account C00001
:61:2610051005D2,50NCHGNONREF//B6K05-0002
:86:Account maintenance fee
:62F:C261005EUR2497,50
-}
{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
:20:STMT261005U
:25:DE44500105175407324931
:28C:00011/001
:60F:C261004USD0,00
:61:2610051005C300,00NTRFINV-77//B6K05-0003
:86:166?00GUTSCHRIFT?20EREF+E2E-77?32NILE VOICE
:62F:C261005USD300,00
-}
"""


def test_mt940_with_two_messages_reads_each_account_and_currency(engine, tmp_path):
    result = importing.import_file(engine, write(tmp_path, "day.sta", MT940))
    assert (result.format, result.statements, result.added) == ("mt940", 2, 3)
    rows = stored(engine)
    assert [(r.statement_account, r.posted_on, r.amount, r.currency, r.reference, r.counterparty) for r in rows] == [
        ("DE89370400440532013000", date(2026, 10, 5), 15_000_000, "EUR", "C00001-OCT", "ACME TRADING LLC"),
        ("DE89370400440532013000", date(2026, 10, 5), -25_000, "EUR", "B6K05-0002", ""),
        ("DE44500105175407324931", date(2026, 10, 5), 3_000_000, "USD", "E2E-77", "NILE VOICE")]
    assert importing.import_file(engine, write(tmp_path, "day.sta", MT940)).added == 0


@pytest.mark.parametrize("interim", [False, True])
def test_mt940_whose_lines_end_in_a_lone_carriage_return_is_read_as_with_line_feeds(engine, tmp_path, interim):
    """Old Mac-style exports end each line with CR alone. The file was one line to the reader, refused as holding
    no statement line, balance or floor limit; an MT942 so written was not told from an MT940."""
    text = MT940.replace(":60F:", ":34F:EURD0,\n:60F:", 1) if interim else MT940
    result = importing.import_file(engine, write(tmp_path, "mac.sta", text.replace("\n", "\r").encode("ascii")))
    assert (result.format, result.statements, result.added) == ("mt942" if interim else "mt940", 2, 3)
    plain = importing.read(write(tmp_path, "unix.sta", text))[0].lines
    assert [(r.statement_account, r.posted_on, r.amount, r.currency, r.reference) for r in stored(engine)] == [
        (line.statement_account, line.posted_on, line.amount, line.currency, line.reference) for line in plain]
    assert importing.import_file(engine, write(tmp_path, "mac.sta", text.replace("\n", "\r\n"))).added == 0


def test_mt940_in_the_dutch_banks_structured_style_reads_the_payers_name(engine, tmp_path):
    """Rabobank and ING write the other party as /CNTP/account/BIC/name/city/ (city may be empty)."""
    text = (":20:940S261020\n:25:NL12RABO0123456789\n:28C:1/1\n:60F:C261019EUR0,00\n"
            ":61:261020C150,00N541NONREF\n"
            ":86:/EREF/C00044-INV9//MARF/M1/CSID/X/CNTP/NL12ABNA0417164300/ABNANL2A/Delta BV/Amsterdam/REMI/USTD//"
            "Prepaid topup C00044/\n"
            ":61:261020C20,00N541NONREF\n"
            ":86:/CNTP/NL32INGB0000012345/INGBNL2A/ING BANK NV INZAKE WEB///REMI/USTD//EV1000 C00045/\n"
            ":62F:C261020EUR170,00\n-\n")
    importing.import_file(engine, write(tmp_path, "rabo.sta", text))
    assert [(r.amount, r.reference, r.counterparty) for r in stored(engine)] == [
        (1_500_000, "C00044-INV9", "Delta BV"), (200_000, "", "ING BANK NV INZAKE WEB")]


@pytest.mark.parametrize("text", [":20:", ":20:STMT1\n:25:NL12RABO0123456789\n:28C:1/1\n-\n"])
def test_an_mt940_that_tells_no_money_at_all_is_refused_not_unchanged(engine, tmp_path, text):
    with pytest.raises(StatementFileError, match=r"cut.sta: no message holds a statement line \(:61:\), a balance"):
        importing.import_file(engine, write(tmp_path, "cut.sta", text))


def test_an_mt940_day_without_lines_but_with_its_balances_imports_nothing_quietly(engine, tmp_path):
    text = ":20:STMT1\n:25:NL12RABO0123456789\n:28C:1/1\n:60F:C261019EUR10,00\n:62F:C261019EUR10,00\n-\n"
    assert importing.import_file(engine, write(tmp_path, "day.sta", text)).outcome == "unchanged"


def test_mt942_interim_report_takes_its_currency_from_the_floor_limit(engine, tmp_path):
    text = (":20:INTRADAY1\n:25:DE89370400440532013000\n:28C:1/1\n:34F:EURD0,\n:13D:2610051200+0100\n"
            ":61:2610051005C75,00NTRFNONREF//B6K05-0009\n:86:/EREF/C00004/NAME/NILE VOICE\n:90C:1EUR75,00\n-\n")
    result = importing.import_file(engine, write(tmp_path, "intraday.txt", text))
    assert (result.format, result.added) == ("mt942", 1)
    row = stored(engine)[0]
    assert (row.amount, row.currency, row.reference) == (750_000, "EUR", "C00004")


@pytest.mark.parametrize("statement_line, bank_layout", [
    # an IBAN where SWIFT's 16-character reference goes, the payee on the next line: only a bank's layout reads it
    (":61:2610051005D65,00NOVBNL02RABO0123456789\nPAYEE ON THE NEXT LINE", True),
    # a long end-to-end id before //: the standard layout reads it (the reference cut to 16 characters)
    (":61:2610051005DR65,00NTRFE2E-a7Hk2PqZx9LmN4tRsVbW//2026100516391534000", False),
])
def test_mt940_with_a_bank_s_long_customer_reference_is_read(engine, tmp_path, statement_line, bank_layout):
    text = (":20:STMT261005\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C261004EUR100,00\n"
            f"{statement_line}\n:86:Betaling sieraden\n:62F:C261005EUR35,00\n-\n")
    result = importing.import_file(engine, write(tmp_path, "long-ref.sta", text))
    assert result.added == 1
    assert any("longer than SWIFT's 16 characters" in w for w in result.warnings) == bank_layout
    row = stored(engine)[0]
    assert (row.posted_on, row.amount, row.currency) == (date(2026, 10, 5), -650_000, "EUR")  # 100 - 65 = 35


def test_mt940_a_statement_line_no_layout_reads_is_refused_naming_the_field(engine, tmp_path):
    text = ":20:S\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C261004EUR100,00\n:61:26100X1005D65,00NTRF\n-\n"
    with pytest.raises(StatementFileError, match=r"message 1 is not valid MT940/MT942: field :61:"):
        importing.import_file(engine, write(tmp_path, "bad.sta", text))
    assert stored(engine) == []


@pytest.mark.parametrize("mark_and_amount, signed", [
    ("C100,00NTRF", 1_000_000), ("D100,00NTRF", -1_000_000),
    ("RC100,00NTRF", -1_000_000),  # a reversed credit takes the money back out
    ("RD100,00NTRF", 1_000_000),  # a reversed debit brings it back in
    ("CR100,00NTRF", 1_000_000),  # C, then the funds code R
    ("C500NTRF", 5_000_000),  # a whole amount without its decimal comma, as some banks write it
    ("D0,42MCI0", -4_200),  # a bank's own transaction type
])
def test_mt940_signs_follow_the_mark_reversals_included(engine, tmp_path, mark_and_amount, signed):
    text = f":20:S\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C261004EUR100,00\n:61:2610151015{mark_and_amount}REF//B1\n-\n"
    assert importing.import_file(engine, write(tmp_path, "marks.sta", text)).added == 1
    assert stored(engine)[0].amount == signed


@pytest.mark.parametrize("mark_and_amount", [
    "d100,00NTRF", "c100,00NTRF", "rc100,00NTRF",  # a mark is upper case: a lower-case one is never guessed
    "C1.000,00NTRF",  # a thousands point: not SWIFT's amount, never read as 1
    "C\u0661\u0662\u0663,00NTRF",  # Arabic-Indic digits
    "C,5NTRF",  # no whole digit
])
def test_mt940_an_amount_or_mark_not_as_swift_writes_it_is_refused(engine, tmp_path, mark_and_amount):
    text = f":20:S\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C261004EUR100,00\n:61:2610151015{mark_and_amount}REF//B1\n-\n"
    with pytest.raises(ImportRejected, match=r"transaction 1 \(message 1\): :61: .* does not start with a value date"):
        importing.import_file(engine, write(tmp_path, "marks.sta", text))
    assert stored(engine) == []


OLDER_BANK_MT940 = """:940:
:20:940S261005
:25:4471.220.918EUR
:28:00000/00
:60F:C261004EUR000000001000.00
:61:261005C000000000250.75NMSC0042173
:86:Storting kantine
:86:Week 40
:61:261005D000000000100.5NMSCNONREF
:86:Huur oktober
:62F:C261005EUR000000001150.25
:20:940S261005
:25:4471.220.926JPY
:28:00000/00
:60F:C261004JPY00000000050000.
:61:261005D00000000012000.NMSCNONREF
:86:Freight invoice 7
:62F:C261005JPY00000000038000.
"""


def test_mt940_with_decimal_points_as_an_older_bank_writes_them_is_read_with_a_warning(engine, tmp_path):
    result = importing.import_file(engine, write(tmp_path, "old-bank.txt", OLDER_BANK_MT940))
    assert (result.statements, result.added) == (2, 3)
    assert any("decimal point" in w for w in result.warnings)
    assert [(r.statement_account, r.posted_on, r.amount, r.currency, r.description) for r in stored(engine)] == [
        ("4471.220.918EUR", date(2026, 10, 5), 2_507_500, "EUR", "Storting kantine Week 40"),
        ("4471.220.918EUR", date(2026, 10, 5), -1_005_000, "EUR", "Huur oktober"),
        ("4471.220.926JPY", date(2026, 10, 5), -120_000_000, "JPY", "Freight invoice 7")]  # 1000 + 250.75 - 100.50
    assert importing.import_file(engine, write(tmp_path, "old-bank.txt", OLDER_BANK_MT940)).added == 0


def test_mt940_a_point_that_may_separate_thousands_is_never_read_as_a_decimal(engine, tmp_path):
    text = ":20:S\n:25:4471.220.918\n:28:1/1\n:60F:C261004EUR0,00\n:61:261005C1.250NMSCNONREF\n:86:x\n-\n"
    with pytest.raises(ImportRejected, match=r"transaction 1 \(message 1\): :61: '261005C1.250NMSCNONREF' does not "
                                             r"start with a value date"):
        importing.import_file(engine, write(tmp_path, "thousands.sta", text))
    assert stored(engine) == []


UNTYPED_MT940 = """{1:F01BANKNGLAXXXX0000000000}{2:I940BANKNGLAXXXXN}{4:
:20:261006093015
:25:2093318844
:28C: /1
:60F:C261005NGN1000,00
:61:2610051005CN5000,00//30311122201
:86:1005-OCT-TOPUP// TRF FROM ACME LTD
:61:2610051005DN1234,56//30311122202
:86:1005-OCT-PAYOUT// TRF TO NILE VOICE
:62F:C261005NGN4765,44
-}
"""


def test_mt940_lines_without_a_transaction_type_and_an_odd_statement_number_are_read(engine, tmp_path):
    result = importing.import_file(engine, write(tmp_path, "untyped.sta", UNTYPED_MT940))
    assert result.added == 2
    assert any("no transaction type" in w for w in result.warnings)
    assert any("statement number (:28C:)" in w for w in result.warnings)
    assert [(r.statement_id, r.amount, r.currency, r.reference) for r in stored(engine)] == [
        ("261006093015//1", 50_000_000, "NGN", "30311122201"),
        ("261006093015//1", -12_345_600, "NGN", "30311122202")]  # 1000 + 5000 - 1234.56 = 4765.44


def test_mt940_a_statement_line_the_parser_passes_over_is_named_not_counted(engine, tmp_path):
    text = (":20:S\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C261004EUR100,00\n:61:2610151015C100,00\n:86:no type\n"
            ":61:2610151015D5,00NTRFNONREF//B2\n:86:fee\n-\n")
    with pytest.raises(StatementFileError, match=r"^skipped.sta: message 1: :61: '2610151015C100,00' does not start"):
        importing.import_file(engine, write(tmp_path, "skipped.sta", text))
    assert stored(engine) == []


def test_mt940_a_message_cut_before_its_closing_balance_is_read_with_a_warning(engine, tmp_path):
    cut = MT940.split(":61:2610051005D2,50")[0]  # the first message loses its second line and closing balance
    second = MT940.split("-}\n", 1)[1]
    result = importing.import_file(engine, write(tmp_path, "cut.sta", cut + second))
    assert result.added == 2
    assert [w for w in result.warnings if "closing balance" in w] == [
        "message 1 has statement lines but no closing balance (:62F: or :62M:): it may be cut short; check its lines "
        "against the bank's own view"]


def test_mt940_whose_lines_do_not_make_its_closing_balance_is_read_with_a_warning_naming_the_gap(engine, tmp_path):
    whole = importing.import_file(engine, write(tmp_path, "whole.sta", MT940))
    assert not [w for w in whole.warnings if "balances move" in w]  # opening + lines = closing in both messages
    short = MT940.split("-}\n", 1)[0].replace(":61:2610051005D2,50", ":61:2610051005D0,50")  # 2.00 of a line lost
    result = importing.import_file(engine, write(tmp_path, "short.sta", short.replace(":20:", ":20:X", 1)))
    unreadable = MT940.split("-}\n", 1)[0].replace(":62F:C261005EUR2497,50", ":62F:C261005EUR9999999999999999,")
    assert importing.import_file(engine, write(tmp_path, "odd.sta", unreadable.replace(":20:", ":20:Y", 1))).added == 0
    assert [w for w in result.warnings if "balances move" in w] == [
        "message 1: its lines move 1,499.50 but its balances move 1,497.50 (opening 1,000.00, closing 2,497.50): lines "
        "may be missing or the statement cut short; check it against the bank's own view"]


def test_mt940_without_any_currency_is_rejected_not_assumed(engine, tmp_path):
    text = MT940.split("-}")[0].replace(":60F:C261004EUR1000,00\n", "").replace(":62F:C261005EUR2497,50\n", "")
    with pytest.raises(ImportRejected, match="currency is missing"):
        importing.import_file(engine, write(tmp_path, "day.sta", text))


GERMAN_BANK_MT940 = """:20:K4411LGX7TQ2
:25:37040044/0532013000
:28C:00071/1
:60F:C261004EUR100,00
:61:2610051005D12,35 NRTIKREF+//2610051234567890
/OCMT/EUR11,85//CHGS/EUR0,50/
:86:109?00SEPA-LASTSCHR. RETOURE?109075/629?20EREF+E2E-RET-0042 KREF+DA
?212610 MREF+M-17 SVWZ+Rueck?22gabe Lastschrift?30COBADEFFXXX
?31DE44500105175407324931?32NILE VOICE
:61:2610051005C50,00 NTRFNONREF//2610051234567891
:86:166?00SEPA-GUTSCHRIFT?20EREF+C00001-OCT SVWZ+Top-up?30DEUTDEFFXXX
?31DE89370400440532013000?32ACME TRADING?33 LLC
:62F:C261005EUR137,65
:64:C261005EUR137,65
:65F:Dnullnull7414,3
-
"""


def test_mt940_as_german_banks_write_it_reads_amounts_names_and_references(engine, tmp_path):
    """A space between a :61: amount and its type, a forward balance the bank left unfilled, ?31 the payer's IBAN.

    Commerzbank and Deutsche Bank put a blank after the amount; Oldenburgische Landesbank writes a :65F: of
    'null's. The amount still ends at its last digit, and an available balance moves no line's money: both
    are read, with a warning. The structured :86: gives the payer's IBAN in ?31 and the name in ?32/?33.
    """
    result = importing.import_file(engine, write(tmp_path, "german.sta", GERMAN_BANK_MT940))
    assert result.added == 2
    assert any("blank between" in w for w in result.warnings)
    assert any("available balance" in w for w in result.warnings)
    assert [(r.posted_on, r.amount, r.currency, r.reference, r.counterparty) for r in stored(engine)] == [
        (date(2026, 10, 5), -123_500, "EUR", "E2E-RET-0042", "NILE VOICE"),
        (date(2026, 10, 5), 500_000, "EUR", "C00001-OCT", "ACME TRADING LLC")]  # 100 - 12.35 + 50 = 137.65
    assert importing.import_file(engine, write(tmp_path, "german.sta", GERMAN_BANK_MT940)).added == 0


@pytest.mark.parametrize("balance", [":64:C261005EUR1.000,00", ":65:CnullEUR5,00"])
def test_mt940_an_unreadable_available_balance_is_left_out_with_a_warning(engine, tmp_path, balance):
    text = (":20:S\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C261004EUR100,00\n:61:2610151015C5,00NTRFNONREF//B1\n"
            f":86:x\n:62F:C261015EUR105,00\n{balance}\n-\n")
    result = importing.import_file(engine, write(tmp_path, "balance.sta", text))
    assert result.added == 1 and any("available balance" in w for w in result.warnings)
    assert stored(engine)[0].amount == 50_000


def test_mt940_a_blank_entry_date_reads_the_line_on_its_value_date(engine, tmp_path):
    """Citibank (and ASN Bank) fill the optional :61: entry date with four blanks; USD's funds code D follows the mark."""
    text = (":20:C261005\n:25:36001234\n:28:1/1\n:60F:C261004USD1000,00\n:61:261005    DD212,39NMSCNONREF//\n"
            "/ABC/DEF/MISCELLANEOUS\n:86:/PT/FT/PY/CARRIER INVOICE 112233\n:61:261005    CD1500,00NTRFNONREF//\n"
            ":86:/PT/FT/PY/ACME TRADING LLC C00001\n:62F:C261005USD2287,61\n-\n")
    result = importing.import_file(engine, write(tmp_path, "citi.txt", text))
    assert result.added == 2
    assert [(r.posted_on, r.value_on, r.amount, r.currency) for r in stored(engine)] == [
        (date(2026, 10, 5), date(2026, 10, 5), -2_123_900, "USD"),
        (date(2026, 10, 5), date(2026, 10, 5), 15_000_000, "USD")]  # 1000 - 212.39 + 1500 = 2287.61


def test_mt940_a_value_date_of_february_30_is_read_as_the_month_s_last_day_with_a_warning(engine, tmp_path):
    """German banks date interest by a 30-day month: a :61: value date of 30 February is the month's end."""
    text = (":20:STARTUMSE\n:25:37040044/0532013000\n:28C:00001/001\n:60F:C260227EUR1200,00\n"
            ":61:2602300302DR6,00N024NONREF\n:86:805?00ENTGELTABSCHLUSS?20Kontofuehrung\n:62F:C260302EUR1194,00\n-\n")
    result = importing.import_file(engine, write(tmp_path, "interest.sta", text))
    assert result.added == 1 and any("30 February" in w for w in result.warnings)
    row = stored(engine)[0]
    assert (row.posted_on, row.value_on, row.amount) == (date(2026, 3, 2), date(2026, 2, 28), -60_000)


def test_a_camt_wrapped_in_a_business_application_header_is_read(engine, tmp_path):
    document = camt("053", "08", BATCH).split("?>", 1)[1]
    text = ('<?xml version="1.0" encoding="UTF-8"?><BizMsgEnvlp><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:'
            'head.001.001.02"><BizMsgIdr>B1</BizMsgIdr><MsgDefIdr>camt.053.001.08</MsgDefIdr></AppHdr>'
            f"{document}</BizMsgEnvlp>")
    result = importing.import_file(engine, write(tmp_path, "bah.xml", text))
    assert (result.format, result.added) == ("camt053.08", 3)
    assert {r.statement_id for r in stored(engine)} == {"S1"}  # the statement's Id, not the account's


def test_a_camt_delivered_over_swiftnet_in_an_alliance_access_envelope_is_read(engine, tmp_path):
    """SWIFT Alliance Access hands an MX message over in a DataPDU (urn:swift:saa:xsd:saa.2.0) whose header ends
    before the message: its elements are passed over as the business application header's are. It was refused
    as 'not a CAMT statement (element Revision ...)'."""
    document = camt("053", "08", BATCH).split("?>", 1)[1]
    text = ('<?xml version="1.0" encoding="UTF-8"?><Saa:DataPDU xmlns:Saa="urn:swift:saa:xsd:saa.2.0">'
            "<Saa:Revision>2.0.13</Saa:Revision><Saa:Header><Saa:Message><Saa:SenderReference>X1</Saa:SenderReference>"
            "<Saa:MessageIdentifier>camt.053.001.08</Saa:MessageIdentifier><Saa:Format>MX</Saa:Format></Saa:Message>"
            '</Saa:Header><Saa:Body><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"><BizMsgIdr>B1'
            f"</BizMsgIdr></AppHdr>{document}</Saa:Body></Saa:DataPDU>")
    result = importing.import_file(engine, write(tmp_path, "saa.xml", text))
    assert (result.format, result.added) == ("camt053.08", 3)
    plain = importing.read(write(tmp_path, "plain.xml", camt("053", "08", BATCH)))[0].lines
    assert [(r.posted_on, r.amount, r.currency, r.reference) for r in stored(engine)] == [
        (line.posted_on, line.amount, line.currency, line.reference) for line in plain]
    stray = text.replace("urn:swift:saa:xsd:saa.2.0", "urn:example:other")
    with pytest.raises(StatementFileError, match="not a CAMT statement .element Revision in namespace 'urn:example:other'"):
        importing.read(write(tmp_path, "other.xml", stray))


# --- large files: read a piece at a time -----------------------------------------------------------------

def test_an_ofx_larger_than_its_pieces_reads_tags_and_characters_that_straddle_a_cut(engine, tmp_path):
    from vosbench.sources.bankfiles import ofx

    count = 30_000  # some 3 MiB: three cuts, each inside a transaction
    transactions = "".join(f"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261005<TRNAMT>{n}.25<FITID>F{n}"
                           f"<NAME>Café Noël {n}<MEMO>Überweisung № {n}</STMTTRN>\n" for n in range(count))
    path = write(tmp_path, "large.ofx", HEADER.replace("USASCII", "UTF-8") + (
        "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>1<ACCTID>DE1</BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>20261001<DTEND>20261031\n{transactions}</BANKTRANLIST>"
        "<LEDGERBAL><BALAMT>0<DTASOF>20261031</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"))
    assert path.stat().st_size > 2 * ofx._PIECE
    parsed, _ = importing.read(path)
    assert parsed.rejections == [] and parsed.warnings == []
    assert [(line.amount, line.counterparty, line.description, line.line_key) for line in parsed.lines] == [
        (n * 10_000 + 2_500, f"Café Noël {n}", f"Überweisung № {n}", f"fitid:F{n}") for n in range(count)]
    assert importing.import_file(engine, path).added == count
    assert importing.import_file(engine, path).skipped == count


def test_an_entity_declaration_across_two_pieces_of_a_camt_is_refused(engine, tmp_path):
    from vosbench.sources.bankfiles import camt as camt_reader

    head = '<?xml version="1.0" encoding="UTF-8"?>\n<!--'
    padding = "x" * (camt_reader._PIECE - len(head) - 4)  # "<!ENTITY" starts four bytes before the first cut
    path = write(tmp_path, "entity.xml", head + padding + '<!ENTITY b "boom">-->' + camt("053", "04", BATCH))
    with pytest.raises(StatementFileError, match="DOCTYPE or ENTITY"):
        importing.import_file(engine, path)
    assert stored(engine) == []


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_camt_with_an_entity_declaration_is_refused_like_a_utf8_one(engine, tmp_path, codec):
    text = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Document [<!ENTITY lol "LOL">]>'
            + camt("053", "04", BATCH).split("?>", 1)[1].replace("<Ustrd>", "<Ustrd>&lol;", 1))
    path = tmp_path / "bank.xml"
    path.write_bytes(text.encode(codec))
    with pytest.raises(StatementFileError, match="DOCTYPE or ENTITY"):
        importing.import_file(engine, path)
    assert stored(engine) == []
