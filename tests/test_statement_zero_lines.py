"""A statement line of amount zero is left out the same way by every reader, and the file says how many.

A bank writes zero lines for a fee waived or an information entry: they move no money, so
there is nothing to match them with, and they must never make a real bank's file refused.
OFX, CAMT and MT940 used to store them (as lines no payment could ever match), while the
CSV profiles refused the whole file for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from vosbench.ledger import setup, tables
from vosbench.sources.bankfiles import importing

OFX = """OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252
COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n
<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>123456789<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20261001<DTEND>20261031
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261005<TRNAMT>150.00<FITID>F-1<NAME>ACME TRADING</STMTTRN>
<STMTTRN><TRNTYPE>FEE<DTPOSTED>20261006<TRNAMT>0.00<FITID>F-2<NAME>WIRE FEE WAIVED</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>150.00<DTASOF>20261031</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""

CAMT = ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        '<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-01T06:00:00+01:00</CreDtTm></GrpHdr><Stmt><Id>S1</Id>'
        '<Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>'
        + "".join(f'<Ntry><Amt Ccy="CHF">{amount}</Amt><CdtDbtInd>{mark}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
                  f'<BookgDt><Dt>2026-10-0{day}</Dt></BookgDt><AcctSvcrRef>R-{day}</AcctSvcrRef>'
                  f'<AddtlNtryInf>{text}</AddtlNtryInf></Ntry>'
                  for amount, mark, day, text in (("150.00", "CRDT", 5, "TOP-UP C00001"), ("0.00", "DBIT", 6, "INFO")))
        + '</Stmt></BkToCstmrStmt></Document>')

MT940 = """:20:STMT261005
:25:DE89370400440532013000
:28C:00190/001
:60F:C261004EUR1000,00
:61:2610051005CR150,00NTRFNONREF//B6K05-0001
:86:/EREF/C00001-OCT/NAME/ACME TRADING LLC
:61:2610061006D0,00NCHGNONREF//B6K05-0002
:86:Fee waived
:62F:C261006EUR1150,00
-
"""

GATEWAY = """created_utc,charge_id,customer_account,card_holder,currency,gross,fee,net,status,description
2026-10-03 14:22:10,ch_0001,C00003,B SKY,USD,100.00,3.20,96.80,succeeded,Portal top-up
2026-10-04 09:00:00,ch_0002,C00003,B SKY,USD,0.00,0.00,0.00,succeeded,Card check
"""


@pytest.mark.parametrize(("name", "text", "profile"), [
    ("bank.ofx", OFX, None), ("bank.xml", CAMT, None), ("day.sta", MT940, None), ("gateway.csv", GATEWAY, "gateway")])
def test_every_reader_leaves_zero_lines_out_and_counts_them_in_one_warning(tmp_path, name, text, profile):
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone="UTC")
    path = Path(tmp_path / name)
    path.write_text(text, encoding="utf-8")
    result = importing.import_file(engine, path, profile=profile)
    assert result.added == 1
    assert [warning for warning in result.warnings if "amount zero" in warning] == [
        "1 line(s) of amount zero left out: they move no money (a fee waived, an information entry), "
        "so there is nothing to match them with"]
    with engine.connect() as connection:
        amounts = connection.scalars(sa.select(tables.statement_lines.c.amount)).all()
        kept_warnings = connection.scalars(sa.select(tables.statement_import_warnings.c.warning)).all()
    assert len(amounts) == 1 and 0 not in amounts
    assert any("amount zero" in warning for warning in kept_warnings)  # stored with the import, like every warning
