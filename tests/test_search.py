"""The trigram search index: built as imports land, caught up on demand, finding exactly what LIKE finds."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from vosbench.analysis import explore
from vosbench.analysis.filters import PaymentFilter
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import database, setup, tables, text_index, write_door
from vosbench.sources import csv_import

# References and memos with LIKE and FTS5 specials, quotes and non-ASCII case pairs
# (LIKE folds ASCII only: "é" must not find "É").
TEXTS = ['WIRE-100%', 'first wire', 'PAYOUT_1', 'bonus 9A%off', 'say "hi" *now*', "O'Brien's top-up",
         'Café ÉTÉ', 'café été', 'Straße', 'STRASSE', 'İstanbul', 'istanbul', 'a_b%c\\d', 'ch_1', 'x', '']
ACCOUNTS = "account,name,kind,parent\nC1,Acme,customer,\n"


def _payment_rows(start: int, pairs) -> str:
    rows = []
    for number, (reference, memo) in enumerate(pairs, start):
        cells = [f"p{number}", "C1", "deposit", "1.00", f"2026-10-01T{number % 24:02d}:00:00+00:00", "ops", "admin",
                 "cash", reference, memo, "", ""]
        rows.append(",".join('"' + cell.replace('"', '""') + '"' for cell in cells))
    return "\n".join(rows)


def _build(folder, pairs, start: int = 1) -> sa.Engine:
    folder.mkdir(parents=True, exist_ok=True)
    engine = setup.open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}", create=True)
    batch = folder / f"batch{start}"
    batch.mkdir()
    (batch / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (batch / "payments.csv").write_text(
        "source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after\n"
        + _payment_rows(start, pairs) + "\n", encoding="utf-8")
    csv_import.import_paths(engine, [batch], default_tz="UTC")
    return engine


def _append_unindexed(engine: sa.Engine, start: int, pairs) -> None:
    """Records appended through the write door alone (no import): the index does not hold them yet."""
    write_door.append_batch(engine, "payments", [
        write_door.NewPayment(f"late{number}", "C1", Kind.DEPOSIT, 10_000, datetime(2026, 10, 2), "ops",
                              Channel.ADMIN, Method.CASH, reference, memo)
        for number, (reference, memo) in enumerate(pairs, start)], source="test", file="late")


PAIRS = [(reference, memo) for reference in TEXTS for memo in TEXTS[::3]]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    engine = _build(tmp_path_factory.mktemp("search"), PAIRS)
    with engine.connect() as connection:  # the import indexed its records as they landed
        assert database.get_meta(connection, text_index.MARK_KEY) == str(len(PAIRS))
    assert text_index.catch_up(engine) == 0
    return engine


def ids(engine, text: str, *, indexed: bool) -> list[int]:
    """Payment ids the text condition selects, through the index or by the LIKE scan alone."""
    assert text_index.searchable(text.strip()) or not indexed
    where = explore.conditions(PaymentFilter(text=text), "UTC", "sqlite", indexed=indexed)
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(tables.payments.c.id).where(*where).order_by(tables.payments.c.id)))


@pytest.mark.parametrize("text", ['"hi"', 'y "h', '100%', 'A%o', 'T_1', '*now*', "O'B", "'s t", 'a_b%c\\d',
                                  'ÉTÉ', 'été', 'fé é', 'strasse', 'STRAßE', 'İst', 'ist', 'wire', 'nothing here'])
def test_the_index_finds_exactly_what_like_finds(ledger, text):
    assert ids(ledger, text, indexed=True) == ids(ledger, text, indexed=False)


def test_quotes_and_wildcards_are_literal(ledger):
    with ledger.connect() as connection:
        texts = {row.id: row.reference + "\n" + row.memo for row in connection.execute(
            sa.select(tables.payments.c.id, tables.payments.c.reference, tables.payments.c.memo))}
    for text in ('"hi"', "100%", "A%o", "T_1", "*now*", "O'B", "a_b%c\\d"):
        expected = [i for i, both in sorted(texts.items()) if text.lower() in both.lower()]
        assert expected and ids(ledger, text, indexed=True) == expected, text


_alphabet = st.sampled_from(list("aAeéÉiIİsSßrw_%\\\"'* -1o0"))


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(_alphabet, min_size=3, max_size=6).filter(lambda t: text_index.searchable(t.strip())),
                      st.sampled_from(TEXTS).flatmap(lambda t: st.integers(0, max(0, len(t) - 3)).map(
                          lambda i: t[i:i + 4].upper() if i % 2 else t[i:i + 3])).filter(lambda t: text_index.searchable(t.strip()))))
def test_property_index_equals_like_scan(ledger, text):
    assert ids(ledger, text, indexed=True) == ids(ledger, text, indexed=False)


def test_search_catches_up_on_demand_and_uses_the_index_only_when_selective(tmp_path, monkeypatch):
    engine = _build(tmp_path / "ledger", PAIRS)
    _append_unindexed(engine, 1, PAIRS[:10])
    assert not text_index.prepare(engine, "wi")  # too short: the LIKE scan
    assert not text_index.prepare(engine, "wire")  # 1 in 50 or more of the records: the LIKE scan
    with engine.connect() as connection:  # but the index caught up
        assert database.get_meta(connection, text_index.MARK_KEY) == str(len(PAIRS) + 10)
    _append_unindexed(engine, len(PAIRS) + 11, [("late wire", "")])
    monkeypatch.setattr(text_index, "SELECTIVE", 1)
    page = explore.query_page(engine, PaymentFilter(text="late wi"))
    assert page.total_count == 1 and list(page.rows["reference"]) == ["late wire"]
    with engine.connect() as connection:
        assert database.get_meta(connection, text_index.MARK_KEY) == str(len(PAIRS) + 11)
    assert text_index.catch_up(engine) == 0


def test_records_past_the_mark_are_found_without_catching_up(tmp_path):
    engine = _build(tmp_path / "ledger", PAIRS)
    _append_unindexed(engine, len(PAIRS) + 1, [("written after", "the catch-up")])
    assert ids(engine, "after", indexed=True) == [len(PAIRS) + 1]  # the tail past the mark is scanned


def test_a_read_only_ledger_falls_back_without_error(tmp_path):
    engine = _build(tmp_path / "ledger", PAIRS)
    engine.dispose()
    path = tmp_path / "ledger" / "ledger.sqlite"
    read_only = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert not text_index.prepare(read_only, "Straße")
        assert explore.query_page(read_only, PaymentFilter(text="Straße")).total_count == len(TEXTS[::3])
    finally:
        read_only.dispose()


def test_other_databases_keep_the_like_scan():
    assert not text_index.prepare(sa.create_mock_engine("postgresql://", lambda *_: None), "wire")


def test_the_fts_query_quotes_every_piece():
    assert text_index.match_expression('a"bc') == '"a""b" AND """bc"'
    assert text_index.match_expression("abcdefg") == '"abc" AND "def" AND "efg"'  # a cover, not every trigram
    assert text_index.match_expression("abcabc") == '"abc"'
