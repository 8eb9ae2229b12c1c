"""Fuzzing the statement readers: whatever the bytes, an import or one clear line, never a traceback.

Real-shaped OFX (SGML and XML), CAMT and MT940 files are mutated by hypothesis —
truncated, bytes flipped, slices cut or doubled, byte-order marks, other encodings,
huge fields, wrong namespaces, entity declarations, deep nesting — and read. The
reader must either give lines that are well formed (integer amounts, a three-letter
currency, a date, a line number) and rejections that name file, line and reason, or
refuse the file with a single line that starts with the file's name. Through the
command line the exit status is 0 or 2 and nothing prints a traceback.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vosbench.commands import main
from vosbench.core import config
from vosbench.ledger import setup
from vosbench.sources.bankfiles import importing
from vosbench.sources.bankfiles.lines import StatementFileError

SAMPLES = Path(__file__).resolve().parent / "samples" / "statements"
SEEDS = {
    "bank.ofx": (SAMPLES / "bank-two-accounts.ofx").read_bytes(),
    "v2.xml": (SAMPLES / "bank-v2.xml").read_bytes(),
    "v8.xml": (SAMPLES / "bank-v8.xml").read_bytes(),
    "xml.ofx": (b'<?xml version="1.0" encoding="UTF-8"?><?OFX OFXHEADER="200" VERSION="220"?><OFX><CREDITCARDMSGSRSV1>'
                b"<CCSTMTTRNRS><TRNUID>1</TRNUID><CCSTMTRS><CURDEF>USD</CURDEF><CCACCTFROM><ACCTID>4111</ACCTID>"
                b"</CCACCTFROM><BANKTRANLIST><DTSTART>20261001</DTSTART><DTEND>20261031</DTEND><STMTTRN>"
                b"<TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20261002</DTPOSTED><TRNAMT>9.99</TRNAMT><FITID>A</FITID>"
                b"<NAME>A &amp; B</NAME></STMTTRN></BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>"),
    "day.sta": (b":20:S1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261004EUR1000,00\n"
                b":61:2610051005C1500,00NTRFNONREF//B1\n:86:/EREF/C00001/NAME/ACME\n:62F:C261005EUR2500,00\n-\n"),
}

BYTES = st.binary(min_size=1, max_size=8)


@st.composite
def mutated(draw):
    """A seed file and one to three mutations of it."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = SEEDS[name]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "cut", "double", "bom", "encoding", "huge",
                                     "namespace", "entity", "nest", "tag"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip":
            data = data[:at] + draw(BYTES) + data[at + 1:]
        elif kind == "insert":
            data = data[:at] + draw(st.sampled_from([b"<", b">", b"&", b"</STMTTRN>", b"<STMTTRN>", b"]]>", b"\x00",
                                                    b"&#0;", b"&#x110000;", b"-}", b":61:", b"\r"])) + data[at:]
        elif kind == "cut":
            data = data[:at] + data[at + draw(st.integers(1, 200)):]
        elif kind == "double":
            data = data[:at] + data[at:at + draw(st.integers(1, 300))] * 2 + data[at:]
        elif kind == "bom":
            data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb"])) + data
        elif kind == "encoding":
            text = data.decode("utf-8", errors="replace")
            data = text.encode(draw(st.sampled_from(["utf-16", "utf-16-le", "cp1252", "latin-1"])), errors="replace")
        elif kind == "huge":
            data = data[:at] + b"9" * draw(st.sampled_from([300, 5_000, 200_000])) + data[at:]
        elif kind == "namespace":
            data = data.replace(b"camt.053.001", draw(st.sampled_from([b"camt.052.001", b"camt.054.001", b"pain.001.001",
                                                                       b"camt.053.002", b""])))
        elif kind == "entity":
            data = (b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">'
                    b'<!ENTITY l "lollollol">]>' + data.split(b"?>", 1)[-1].replace(b"USD", b"&x;&l;", 1))
        elif kind == "nest":
            depth = draw(st.sampled_from([10, 100, 5_000]))
            data = data[:at] + b"<A>" * depth + data[at:]
        elif kind == "tag":
            data = data.replace(draw(st.sampled_from([b"TRNAMT", b"Amt", b"CdtDbtInd", b"DTPOSTED", b"BookgDt",
                                                      b"ACCTID", b"Ccy", b"CURDEF", b":61:", b"FITID"])),
                                draw(st.sampled_from([b"X", b"", b"trnamt", b"Amt Ccy=\"\""])), 1)
    return name, data


def read_or_refuse(folder: Path, name: str, data: bytes):
    path = folder / name
    path.write_bytes(data)
    try:
        parsed, _ = importing.read(path)
    except StatementFileError as error:
        message = str(error)
        assert message.startswith(f"{name}: ") and "\n" not in message and "Traceback" not in message
        assert "object at 0x" not in message  # no object reprs in what a user reads
        return None
    for line in parsed.lines:
        assert isinstance(line.amount, int) and line.amount == int(line.amount)
        assert len(line.currency) == 3 and line.currency.isalpha() and line.currency.isupper()
        assert isinstance(line.posted_on, date) and line.line >= 0
        assert len(line.reference) <= 255 and len(line.counterparty) <= 255
    for rejection in parsed.rejections:
        assert rejection.file == name and rejection.line >= 0 and rejection.reason and "\n" not in rejection.reason
    return parsed


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_mutated_statement_reads_or_is_refused_in_one_line(case):
    name, data = case
    with tempfile.TemporaryDirectory() as folder:
        read_or_refuse(Path(folder), name, data)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SEEDS)), st.binary(max_size=400))
def test_random_bytes_under_a_statement_name_are_refused_in_one_line(name, data):
    with tempfile.TemporaryDirectory() as folder:
        read_or_refuse(Path(folder), name, data)


def test_the_unmutated_seeds_read_without_rejections():
    with tempfile.TemporaryDirectory() as folder:
        counts = {name: len(read_or_refuse(Path(folder), name, data).lines) for name, data in SEEDS.items()}
    assert counts == {"bank.ofx": 4, "v2.xml": 3, "v8.xml": 2, "xml.ofx": 1, "day.sta": 1}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(mutated(), min_size=1, max_size=3))
def test_the_command_line_exits_0_or_2_and_never_prints_a_traceback(monkeypatch, capsys, cases):
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'fuzz.sqlite'}"
        setup.open_ledger(url, create=True, timezone="UTC").dispose()
        monkeypatch.setenv(config.ENV_DB, url)
        paths = []
        for index, (name, data) in enumerate(cases):
            path = Path(folder) / f"{index}-{name}"
            path.write_bytes(data)
            paths.append(str(path))
        code = main.main(["statements", "import", *paths])
        out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    assert out.rstrip().splitlines()[-1].startswith(f"{len(cases)} file(s): ")
    assert (code == 2) == (" refused: " in err)


# --- properties: what a bank writes is what is read, to the last minor unit -----------------------------

from xml.sax.saxutils import escape  # noqa: E402

TRANSACTIONS = st.lists(st.tuples(
    st.integers(-10**12, 10**12).filter(bool),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
    st.text(alphabet="AZaz09 &<>'\"-./éü", max_size=24)), min_size=1, max_size=25)


def decimal_text(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 10_000}.{abs(minor) % 10_000:04d}"


@settings(max_examples=120, deadline=None)
@given(TRANSACTIONS, st.booleans())
def test_ofx_written_then_read_gives_back_every_amount_date_and_name(transactions, closed_leaves):
    end = (lambda tag: f"</{tag}>") if closed_leaves else (lambda tag: "")
    body = "".join(
        f"<STMTTRN><TRNTYPE>OTHER{end('TRNTYPE')}<DTPOSTED>{day:%Y%m%d}{end('DTPOSTED')}"
        f"<TRNAMT>{decimal_text(minor)}{end('TRNAMT')}<FITID>F{number}{end('FITID')}"
        + (f"<NAME>{escape(name)}{end('NAME')}" if name.strip() else "") + "</STMTTRN>\n"
        for number, (minor, day, name) in enumerate(transactions))
    text = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR"
            f"<BANKACCTFROM><BANKID>1<ACCTID>9<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>\n{body}"
            "</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>20260101</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>")
    with tempfile.TemporaryDirectory() as folder:
        parsed = read_or_refuse(Path(folder), "p.ofx", text.encode("utf-8"))
    assert parsed is not None and parsed.rejections == []
    assert [(l.amount, l.posted_on, l.counterparty, l.line_key) for l in parsed.lines] == [
        (minor, day, name.strip(), f"fitid:F{number}") for number, (minor, day, name) in enumerate(transactions)]


@settings(max_examples=120, deadline=None)
@given(TRANSACTIONS, st.sampled_from(["053", "052", "054"]), st.integers(2, 13))
def test_camt_written_then_read_gives_back_every_amount_sign_date_and_name(transactions, kind, version):
    wrapper, holder, _ = {"053": ("BkToCstmrStmt", "Stmt", 0), "052": ("BkToCstmrAcctRpt", "Rpt", 0),
                          "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", 0)}[kind]
    entries = "".join(
        f'<Ntry><Amt Ccy="EUR">{decimal_text(abs(minor))}</Amt><CdtDbtInd>{"CRDT" if minor > 0 else "DBIT"}'
        f"</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>R{number}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RltdPties><{'Dbtr' if minor > 0 else 'Cdtr'}><Nm>{escape(name)}</Nm>"
        f"</{'Dbtr' if minor > 0 else 'Cdtr'}></RltdPties></TxDtls></NtryDtls></Ntry>"
        for number, (minor, day, name) in enumerate(transactions))
    text = (f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.'
            f'{version:02d}"><{wrapper}><GrpHdr><MsgId>M</MsgId></GrpHdr><{holder}><Id>S</Id><Acct><Id><IBAN>X1'
            f"</IBAN></Id></Acct>{entries}</{holder}></{wrapper}></Document>")
    with tempfile.TemporaryDirectory() as folder:
        parsed = read_or_refuse(Path(folder), "c.xml", text.encode("utf-8"))
    assert parsed is not None and parsed.rejections == [] and parsed.format == f"camt{kind}.{version:02d}"
    assert [(l.amount, l.posted_on, l.counterparty, l.currency) for l in parsed.lines] == [
        (minor, day, name.strip(), "EUR") for minor, day, name in transactions]
