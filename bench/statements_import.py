"""Benchmark: import a 100,000-transaction OFX, CAMT.053, camt.054 and MT940 file into a new ledger.

    .venv/bin/python bench/statements_import.py [--transactions 100000] [--repeat 2]

Writes the files to bench/results/ (an SGML OFX like a US bank's export; a camt.053 v8
with parties, references and remittance text, batched entries among them; the same
entries as camt.054 notifications; an MT940 of one message a day), then imports each in a fresh process into a new
SQLite ledger, as `vosbench statements import` does, and again into the same ledger
(nothing added). Prints the machine's facts and, per file, the size, the wall and CPU
time of each import (the importing process's and its reader's, a second process that
reads a large file while the first appends the lines) and the peak resident memory of
each. The target is < 5 s and < 300 MiB on 2 cores; on a machine busy with other work
the CPU time is the import's own.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from run import RESULTS, print_table  # bench/run.py: the same machine facts and table

HEADER = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
          "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n")
NAMES = ["Acme Trading LLC", "Blue Sky Telecom", "Nile Voice", "Gulf Pay Services", "Transit One Carrier"]


def write_ofx(path: Path, count: int) -> None:
    rng = random.Random(16)
    first = date(2026, 1, 1)
    with path.open("w", encoding="ascii") as out:
        out.write(HEADER + "<OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
                  "<DTSERVER>20261231<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
                  "<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248"
                  "<ACCTID>1001234567<ACCTTYPE>CHECKING</BANKACCTFROM>\n<BANKTRANLIST><DTSTART>20260101"
                  "<DTEND>20261231\n")
        for number in range(count):
            day = first + timedelta(days=number * 365 // count)
            cents = rng.randint(100, 500_000)
            sign = "-" if rng.random() < 0.3 else ""
            out.write(f"<STMTTRN>\n<TRNTYPE>{'DEBIT' if sign else 'CREDIT'}\n<DTPOSTED>{day:%Y%m%d}120000.000[-5:EST]\n"
                      f"<DTUSER>{day:%Y%m%d}\n<TRNAMT>{sign}{cents // 100}.{cents % 100:02d}\n<FITID>FT{number:010d}\n"
                      f"<NAME>{rng.choice(NAMES)}\n<MEMO>Wire ref. C{rng.randint(1, 99_999):05d} &amp; invoice "
                      f"{number}\n</STMTTRN>\n")
        out.write("</BANKTRANLIST>\n<LEDGERBAL><BALAMT>0.00<DTASOF>20261231</LEDGERBAL>\n</STMTRS></STMTTRNRS>"
                  "</BANKMSGSRSV1></OFX>\n")


def write_camt(path: Path, count: int, kind: str = "053") -> None:
    message, holder = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}[kind]
    rng = random.Random(53)
    first = date(2026, 1, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
                  f'camt.{kind}.001.08"><{message}><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2027-01-01T06:00:00+01:00'
                  f'</CreDtTm></GrpHdr><{holder}><Id>BENCH-2026</Id><Acct><Id><IBAN>CH9300762011623852957</IBAN></Id>'
                  '<Ccy>USD</Ccy></Acct>\n')
        number = 0
        while number < count:
            day = first + timedelta(days=number * 365 // count)
            if number % 50 == 0 and number + 3 <= count:  # a batched credit of three transactions
                parts = [rng.randint(100, 100_000) for _ in range(3)]
                total = sum(parts)
                details = "".join(
                    f"<TxDtls><Refs><AcctSvcrRef>T{number + i}</AcctSvcrRef><EndToEndId>E2E{number + i}</EndToEndId>"
                    f"</Refs><Amt Ccy=\"USD\">{p // 100}.{p % 100:02d}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>"
                    f"<Dbtr><Pty><Nm>{rng.choice(NAMES)}</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>C{number + i:05d}"
                    f"</Ustrd></RmtInf></TxDtls>" for i, p in enumerate(parts))
                out.write(f"<Ntry><Amt Ccy=\"USD\">{total // 100}.{total % 100:02d}</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
                          f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}+01:00</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
                          f"<AcctSvcrRef>B{number:010d}</AcctSvcrRef><NtryDtls>{details}</NtryDtls></Ntry>\n")
                number += 3
                continue
            cents = rng.randint(100, 500_000)
            direction = "DBIT" if rng.random() < 0.3 else "CRDT"
            side = "Cdtr" if direction == "DBIT" else "Dbtr"
            out.write(f"<Ntry><Amt Ccy=\"USD\">{cents // 100}.{cents % 100:02d}</Amt><CdtDbtInd>{direction}</CdtDbtInd>"
                      f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
                      f"<AcctSvcrRef>R{number:010d}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED"
                      f"</EndToEndId></Refs><RltdPties><{side}><Pty><Nm>{rng.choice(NAMES)}</Nm></Pty></{side}>"
                      f"</RltdPties><RmtInf><Strd><CdtrRefInf><Ref>RF{number:08d}</Ref></CdtrRefInf></Strd>"
                      f"</RmtInf></TxDtls></NtryDtls></Ntry>\n")
            number += 1
        out.write(f"</{holder}></{message}></Document>\n")


def write_camt054(path: Path, count: int) -> None:
    write_camt(path, count, "054")


def write_mt940(path: Path, count: int) -> None:
    """One MT940 message a day, as banks send them, with SEPA-style :86: text (end-to-end id and payer name)."""
    rng = random.Random(940)
    first = date(2026, 1, 1)
    days = 365
    with path.open("w", encoding="ascii") as out:
        for index in range(days):
            day = first + timedelta(days=index)
            out.write(f":20:STMT{index:05d}\n:25:DE89370400440532013000\n:28C:{index + 1:05d}/1\n"
                      f":60F:C{day:%y%m%d}EUR0,00\n")
            for number in range(index * count // days, (index + 1) * count // days):
                cents = rng.randint(100, 500_000)
                mark = "D" if rng.random() < 0.3 else "C"
                out.write(f":61:{day:%y%m%d}{day:%m%d}{mark}{cents // 100},{cents % 100:02d}NTRFREF{number:08d}//B{number:010d}\n"
                          f":86:/EREF/E2E{number:08d}/NAME/{rng.choice(NAMES)}/REMI/Invoice {number}\n")
            out.write(f":62F:C{day:%y%m%d}EUR0,00\n-\n")


CHILD = """
import resource, sys, time
from vosbench.ledger import setup
from vosbench.sources.bankfiles import importing
engine = setup.open_ledger("sqlite:///" + sys.argv[2], create=True, timezone="UTC")
def cpu():  # this process's and its finished children's (the reader of a large file)
    return sum(usage.ru_utime + usage.ru_stime for usage in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                                      resource.RUSAGE_CHILDREN)))
timings = []
for _ in range(int(sys.argv[3])):
    started, used = time.perf_counter(), cpu()
    result = importing.import_file(engine, sys.argv[1])
    timings.append((time.perf_counter() - started, cpu() - used, result.added, result.skipped))
peaks = [resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(repr((timings, peaks, cpu())))
"""


def measure(path: Path, repeat: int) -> tuple[list, list[float], float, float]:
    ledger = path.with_suffix(".sqlite")
    ledger.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(ledger), str(repeat)], check=True,
                          capture_output=True, text=True)
    timings, peaks, cpu = eval(done.stdout.strip().splitlines()[-1])  # our own child's repr, nothing else
    return timings, peaks, cpu, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="imports of the same file (the later ones add nothing)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    rows = []
    for name, writer in (("statement-100k.ofx", write_ofx), ("statement-100k.xml", write_camt),
                         ("notification-100k.xml", write_camt054), ("statement-100k.sta", write_mt940)):
        path = RESULTS / name.replace("100k", f"{args.transactions // 1000}k")
        writer(path, args.transactions)
        timings, (peak, reader_peak), cpu, process = measure(path, args.repeat)
        size = path.stat().st_size / 1024 / 1024
        first, *again = timings
        rows.append((f"{path.name} ({size:.1f} MiB)", "first import",
                     f"{first[0]:.2f} s wall, {first[1]:.2f} s CPU, {first[2]:,} lines added"))
        for seconds, used, added, skipped in again:
            rows.append(("", "import again", f"{seconds:.2f} s wall, {used:.2f} s CPU, {added:,} added, "
                                             f"{skipped:,} already present"))
        rows.append(("", "peak memory (RSS)", f"{peak:.0f} MiB importing, {reader_peak:.0f} MiB reading (the forked "
                                              "reader shares the importer's pages up to the fork)"))
        rows.append(("", "whole process", f"{process:.2f} s wall, {cpu:.2f} s CPU (start-up and every import)"))
    print_table(rows, RESULTS, heading="file")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average during the run: {load} (other work on the machine stretches wall times; CPU time "
          "is the process's own)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
