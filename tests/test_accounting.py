"""Accounting exports: the packages' import layouts, a balanced journal per entry and currency, exact money."""

import csv
from datetime import date
from decimal import Decimal

import pytest
import yaml

from vosbench.commands import main, options
from vosbench.outputs.accounting import journal, layouts, mapping, movements, writer

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    R1,North Reseller,reseller,,0,USD,Asia/Dubai
    A1,Agent Alpha,agent,R1,0,USD,Asia/Dubai
    C1,Acme Trading,customer,A1,0,USD,Asia/Dubai
    R2,Euro Reseller,reseller,,0,EUR,Asia/Dubai
    A2,Agent Beta,agent,R2,0,EUR,Asia/Dubai
    C2,Berlin GmbH,customer,A2,0,EUR,Asia/Dubai
"""
# Times are UTC; the ledger's days are Asia/Dubai (UTC+4): p1 is 1 October there, p9 is 1 November.
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,channel,method,reference,memo,reason,reverses
    p1,C1,deposit,1000.00,2026-09-30T21:00:00Z,admin,bank_wire,FT-1,,,
    p2,C1,deposit,250.1234,2026-10-02T08:00:00Z,web,gateway,=HYPERLINK("x"),,,
    p3,C1,withdrawal,-100.00,2026-10-03T08:00:00Z,admin,bank_wire,WD-1,,,
    p4,C1,deposit,-1000.00,2026-10-04T08:00:00Z,admin,bank_wire,FT-1,,,p1
    p5,C1,adjustment,-5.50,2026-10-05T08:00:00Z,admin,other,,,billing error,
    p6,C1,bonus,10.00,2026-10-05T09:00:00Z,admin,other,,,,
    p7,A1,commission,12.3456,2026-10-06T08:00:00Z,automatic,other,,,,
    p8,C2,deposit,500.00,2026-10-07T08:00:00Z,admin,bank_wire,SEPA-9,,,
    p9,C2,deposit,77.00,2026-10-31T21:00:00Z,admin,bank_wire,SEPA-10,,,
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-10-10,3.3333,0,1.0000,12
    C2,2026-10-10,2.0050,0,0,4
    A1,2026-10-11,0,0.6667,0,0
"""


@pytest.fixture
def engine(inline_ledger):
    return inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)


@pytest.fixture
def month(engine):
    return movements.month_movements(engine, "2026-10")


def read(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def test_month_is_cut_in_the_ledger_zone(month):
    ids = list(month.payments["account"] + ":" + month.payments["amount"].astype(str))
    assert "C1:10000000" in ids and "C2:770000" not in ids  # p1 is 1 October local; p9 is 1 November
    assert month.payments.loc[month.payments["reference"] == "FT-1", "day"].iloc[0] == date(2026, 10, 1)
    assert month.currencies == ["EUR", "USD"]


def test_journal_balances_per_entry_and_per_currency_and_keeps_every_minor_unit(month):
    lines = journal.build(month, mapping.load())
    assert journal.imbalances(lines) == []
    assert lines.groupby("entry").size().eq(2).all()
    assert lines.groupby("entry")["currency"].nunique().eq(1).all()
    assert str(lines["debit"].dtype) == "int64"
    totals = journal.totals_by_currency(lines)
    # USD: 1000 + 250.1234 + 100 + 1000 + 5.50 + 10 + 12.3456 + fees 3.3333 + 1 + 0.6667; EUR: 500 + 2.0050
    assert totals["USD"] == (10, 23_829_690, 23_829_690)
    assert totals["EUR"] == (2, 5_020_050, 5_020_050)


def test_each_kind_posts_to_the_mapped_accounts_and_negative_amounts_swap_sides(month):
    lines = journal.build(month, mapping.load())

    def posting(memo_part):
        entry = lines[lines["memo"].str.contains(memo_part, regex=False)]
        return (entry.loc[entry["debit"] > 0, "account_code"].item(), entry.loc[entry["credit"] > 0, "account_code"].item())

    assert posting("FT-1 · payment 1") == ("1010", "2100")  # deposit: bank / customer balances
    assert posting("WD-1") == ("2100", "1010")  # withdrawal (negative): the other way round
    assert posting("reverses payment 1") == ("2100", "1010")  # the reversal undoes the deposit
    assert posting("=HYPERLINK") == ("1030", "2100")  # gateway deposit clears through the gateway
    assert posting("adjustment C1") == ("2100", "6100")  # a negative adjustment lowers the liability
    assert posting("bonus C1") == ("6110", "2100")
    assert posting("commission A1") == ("6120", "2110")  # owed to the agent
    assert posting("call fees of 2026-10-10: 1 customer accounts, 12 calls") == ("2100", "4000")
    assert posting("agent fees of 2026-10-11") == ("2110", "4010")
    assert lines.loc[lines["memo"].str.contains("WD-1"), "payment_ids"].iloc[0] == "3"


def test_general_journal_is_exact_and_every_line_names_its_payment(engine, tmp_path):
    result = writer.export_accounting(engine, "2026-10", "journal", out_dir=tmp_path / "out")
    [path] = result.files
    rows = read(path)
    assert rows[0] == list(layouts.GENERAL_JOURNAL.header)
    body = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert {row["debit"] for row in body} >= {"250.1234", "12.3456", "3.3333"}
    for currency in ("USD", "EUR"):
        mine = [row for row in body if row["currency"] == currency]
        assert sum(Decimal(r["debit"]) for r in mine) == sum(Decimal(r["credit"]) for r in mine)
    paid = [row for row in body if "payment " in row["memo"]]
    assert all(row["payment_ids"] and f"payment {row['payment_ids']}" in row["memo"] for row in paid)
    hostile = next(row for row in body if "HYPERLINK" in row["memo"])
    assert hostile["memo"].startswith("deposit")  # the formula text sits inside, never at the start


def test_quickbooks_files_follow_intuits_layouts(engine, tmp_path):
    result = writer.export_accounting(engine, "2026-10", "quickbooks", out_dir=tmp_path / "qb")
    names = sorted(path.name for path in result.files)
    assert names == ["journal-2026-10.csv", "quickbooks-bank-2026-10-EUR-1010-bank.csv",
                     "quickbooks-bank-2026-10-USD-1010-bank.csv",
                     "quickbooks-bank-2026-10-USD-1030-payment-gateway-clearing.csv",
                     "quickbooks-journal-2026-10-EUR.csv", "quickbooks-journal-2026-10-USD.csv"]
    bank = read(tmp_path / "qb" / "quickbooks-bank-2026-10-USD-1010-bank.csv")
    assert bank[0] == ["Date", "Description", "Amount"]
    assert [row[0] for row in bank[1:]] == ["10/01/2026", "10/03/2026", "10/04/2026"]  # MM/DD/YYYY
    assert [row[2] for row in bank[1:]] == ["1000.00", "-100.00", "-1000.00"]  # signed, no grouping
    gateway = read(tmp_path / "qb" / "quickbooks-bank-2026-10-USD-1030-payment-gateway-clearing.csv")
    assert gateway[1][2] == "250.12"  # cents, half-to-even
    assert not gateway[1][1].startswith("=")
    entries = read(tmp_path / "qb" / "quickbooks-journal-2026-10-USD.csv")
    assert entries[0] == ["Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description"]
    by_entry = {}
    for number, _day, _account, debit, credit, _memo in entries[1:]:
        assert (debit == "") != (credit == "")  # one side per line, the other blank
        by_entry.setdefault(number, []).append(Decimal(debit or 0) - Decimal(credit or 0))
    assert all(sum(amounts) == 0 for amounts in by_entry.values())  # still balanced after rounding to cents
    assert ["Customer prepaid balances", "Call revenue"] == [row[2] for row in entries[1:]
                                                             if "call fees" in row[5]]


def test_xero_files_follow_xeros_templates(engine, tmp_path):
    writer.export_accounting(engine, "2026-10", "xero", out_dir=tmp_path / "xero")
    bank = read(tmp_path / "xero" / "xero-bank-2026-10-EUR-1010-bank.csv")
    assert bank == [["*Date", "*Amount", "Payee", "Description", "Reference"],
                    ["07/10/2026", "500.00", "C2 Berlin GmbH", "deposit C2 Berlin GmbH · SEPA-9 · payment 8",
                     "payment 8"]]
    entries = read(tmp_path / "xero" / "xero-journal-2026-10-USD.csv")
    assert entries[0] == ["Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount"]
    groups = {}
    for narration, day, _description, _code, tax_rate, amount in entries[1:]:
        assert tax_rate == "Tax Exempt"
        groups.setdefault((narration, day), []).append(Decimal(amount))  # Xero's grouping of journal lines
    assert len(groups) == 10 and all(len(a) == 2 and sum(a) == 0 for a in groups.values())


def test_sage_bank_file_has_three_columns_and_day_first_dates(engine, tmp_path):
    result = writer.export_accounting(engine, "2026-10", "sage", out_dir=tmp_path / "sage")
    bank = read(tmp_path / "sage" / "sage-bank-2026-10-USD-1010-bank.csv")
    assert bank[0] == ["Date", "Description", "Amount"]
    assert bank[2][0] == "03/10/2026" and bank[2][2] == "-100.00"
    assert not any("journal-2026-10-" in path.name and "sage" in path.name for path in result.files)


def test_a_long_month_is_cut_into_files_the_package_accepts_without_splitting_an_entry():
    import pandas as pd

    frame = pd.DataFrame({"n": range(301)})
    parts = layouts.chunks(frame, layouts.xero_journal("Tax Exempt"))
    assert [len(part) for part in parts] == [300, 1]
    odd = layouts.Layout("x", "", ("n",), lambda r: r, max_rows=5, lines_per_group=2)
    assert [len(part) for part in layouts.chunks(frame.head(9), odd)] == [4, 4, 1]


def test_the_shipped_mapping_is_valid_and_maps_everything():
    shipped = mapping.load()
    assert shipped.moves_cash("deposit") and not shipped.moves_cash("bonus")
    assert shipped.sides(shipped.kinds["deposit"], -5, method="card", account_kind="agent") == ("2110", "1020")


def test_mapping_errors_list_every_problem(tmp_path):
    raw = yaml.safe_load(mapping.DEFAULT_FILE.read_text())
    del raw["methods"]["crypto"]
    raw["kinds"]["bonus"] = {"debit": "9999", "credit": "liability"}
    raw["charges"]["call_fee"] = {"debit": "clearing", "credit": "4000"}
    raw["colour"] = "blue"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(mapping.GlMappingError) as error:
        mapping.load(bad)
    message = str(error.value)
    for part in ("'crypto' is not mapped", "'9999' is not listed", "fees have no payment method",
                 "unknown section 'colour'", str(bad)):
        assert part in message
    with pytest.raises(mapping.GlMappingError, match="does not exist"):
        mapping.load(tmp_path / "missing.yaml")


def test_command_writes_and_lists_files_and_an_empty_month_exits_no_data(engine, tmp_path, capsys):
    url = str(engine.url)
    code = main.main(["export", "accounting", "--db", url, "--month", "2026-10", "--to", "xero",
                      "--out", str(tmp_path / "x")])
    out = capsys.readouterr().out
    assert code == options.EXIT_OK
    assert "xero-journal-2026-10-EUR.csv" in out and "journal EUR: 2 entries" in out
    code = main.main(["export", "accounting", "--db", url, "--month", "2099-01", "--to", "xero",
                      "--out", str(tmp_path / "empty")])
    assert code == options.EXIT_NO_DATA
    assert "nothing to export" in capsys.readouterr().out
    assert not (tmp_path / "empty").exists()
