"""The explore panel answers the same from the payment columns as from SQL, and never from columns that are stale.

A generated ledger (a reseller > agent > customer tree in USD and EUR, the ledger in Asia/Dubai,
reversals, records dated out of order, memos of mixed case and script) is asked every panel question — the count with per-kind
totals, page 1 and page 3 newest first and by amount (both directions), month by kind, channel ×
method, top accounts — for many random filters (periods cut inside months, in the ledger's zone and
in Asia/Kolkata, accounts and subtrees, operators, amount ranges, currencies, texts), once with the columns
built and once from SQL alone (:func:`payment_columns.switch_off`): the frames must be equal. Then
records are appended (some dated before the newest) and the columns must extend and still agree; a
ledger replaced under the same path must never be answered from the old columns. The same comparison
runs on PostgreSQL and MariaDB, and sums that could pass 64 bits are left to SQL.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from vosbench.analysis import explore, payment_columns
from vosbench.analysis.filters import PaymentFilter
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import database, setup, write_door

ZONE = "Asia/Dubai"
TREE = (("R1", AccountKind.RESELLER, "", "USD"), ("A1", AccountKind.AGENT, "R1", "USD"),
        ("A2", AccountKind.AGENT, "R1", "USD"), ("C1", AccountKind.CUSTOMER, "A1", "USD"),
        ("C2", AccountKind.CUSTOMER, "A1", "EUR"), ("C3", AccountKind.CUSTOMER, "A2", "USD"),
        ("C4", AccountKind.CUSTOMER, "", "EUR"), ("C5", AccountKind.CUSTOMER, "A2", "USD"))
CUSTOMERS = ("C1", "C2", "C3", "C4", "C5")
OPERATORS = ("ana", "bo", "cy", "dee")
KINDS = (Kind.DEPOSIT, Kind.BONUS, Kind.AUTO_RECHARGE, Kind.WITHDRAWAL, Kind.ADJUSTMENT)
MEMOS = ("", "Refund of failed call", "refund", "Été promo", "été bonus", "100% top-up", "under_score", "REF-CREDIT")
TEXTS = ("refund", "REFUND", "été", "ÉTÉ", "Été", "100%", "0%", "_", "r_s", "d_o", "promo", "ref 1", "ref", "zzz", "é")
"""Texts a filter searches: in memos only (any case: SQLite's LIKE folds ASCII only), in references ("ref 1"),
in both ("ref"), in none, LIKE's own characters taken literally, and some under three bytes (the columns cannot
tell whether a reference holds them)."""
FIRST = datetime(2026, 1, 1)
DAYS = 120


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Each test keeps its columns in its own folder."""
    monkeypatch.setenv("VOSBENCH_CACHE", str(tmp_path / "cache"))


def _payments(seed: int, count: int, first_key: int, *, reversals: int = 0) -> list[write_door.NewPayment]:
    rng = random.Random(seed)
    rows = []
    for number in range(first_key, first_key + count):
        kind = rng.choice(KINDS)
        amount = rng.choice([rng.randint(1, 5_000), rng.randint(1, 10**9), 100_000]) * \
            (-1 if kind is Kind.WITHDRAWAL or (kind is Kind.ADJUSTMENT and rng.random() < 0.5) else 1)
        at = FIRST + timedelta(minutes=rng.randint(0, DAYS * 24 * 60), microseconds=rng.randint(0, 999_999))
        rows.append(write_door.NewPayment(
            f"p{number}", rng.choice(CUSTOMERS), kind, amount, at, rng.choice(OPERATORS),
            rng.choice([Channel.WEB, Channel.API, Channel.ADMIN]), rng.choice([Method.CARD, Method.CASH, Method.CRYPTO]),
            reference=f"ref {number}", memo=rng.choice(MEMOS), reason="correction" if kind is Kind.ADJUSTMENT else ""))
    for original in rng.sample(rows, reversals):
        rows.append(original._replace(source_key=f"{original.source_key}-back",
                                      amount=-original.amount, reason="reversed", reverses=original.source_key,
                                      occurred_at=original.occurred_at + timedelta(hours=1)))
    return rows


def _ledger(url: str, seed: int = 1, count: int = 600) -> object:
    engine = setup.open_ledger(url, create=True, timezone=ZONE)
    write_door.append_batch(engine, "accounts",
                            [write_door.NewAccount(account, account, kind, parent, 0, currency, ZONE)
                             for account, kind, parent, currency in TREE], source="test", file="accounts")
    write_door.append_batch(engine, "payments", _payments(seed, count, 0, reversals=20), source="test", file="p0")
    return engine


def _filter(rng: random.Random) -> PaymentFilter:
    """A random filter of the panel: any mix of its dimensions, periods cut anywhere."""
    fields: dict = {}
    if rng.random() < 0.7:
        start = FIRST.date() + timedelta(days=rng.randint(-3, DAYS))
        fields.update(start=start, end=start + timedelta(days=rng.choice([0, 6, 30, 45, 90, 200])))
    if rng.random() < 0.25:
        fields["timezone"] = rng.choice(["Asia/Kolkata", "UTC", ZONE])
    if rng.random() < 0.4:
        fields["accounts"] = tuple(rng.sample(["R1", "A1", "A2", *CUSTOMERS], rng.randint(1, 2)))
        fields["include_sub_accounts"] = rng.random() < 0.6
    for name, words in (("kinds", [kind.value for kind in KINDS]), ("channels", ["web", "api", "admin", "ivr"]),
                        ("methods", ["card", "cash", "crypto", "gateway"]), ("operators", [*OPERATORS, "nobody"]),
                        ("currencies", ["USD", "EUR", "GBP"])):
        if rng.random() < 0.3:
            fields[name] = tuple(rng.sample(words, rng.randint(1, 2)))
    if rng.random() < 0.35:
        low = rng.choice([None, 0, 1, 2_000, 100_000, 10**8])
        high = rng.choice([None, 5_000, 100_000, 10**9])
        if low is not None and high is not None and low > high:
            low, high = high, low
        fields.update(min_amount=low, max_amount=high)
    if rng.random() < 0.3:
        fields["text"] = rng.choice(TEXTS)
    return PaymentFilter(**fields)


QUESTIONS = {
    "totals": lambda engine, f: explore.totals_by_kind(engine, f),
    "months": lambda engine, f: explore.monthly_by_kind(engine, f),
    "channels": lambda engine, f: explore.by_channel_method(engine, f),
    "top": lambda engine, f: explore.top_accounts(engine, f, n=3),
    "newest": lambda engine, f: explore.query_page(engine, f, page_size=7),
    "oldest, page 3": lambda engine, f: explore.query_page(engine, f, page=3, page_size=7, descending=False),
    "by amount": lambda engine, f: explore.query_page(engine, f, page_size=7, sort="amount"),
    "by amount up, page 2": lambda engine, f: explore.query_page(engine, f, page=2, page_size=5, sort="amount",
                                                                 descending=False),
}


def _same(columns_answer, sql_answer, *, ordered: bool) -> bool:
    if hasattr(columns_answer, "rows"):
        return (columns_answer.total_count == sql_answer.total_count and columns_answer.page == sql_answer.page
                and columns_answer.rows.equals(sql_answer.rows)
                and columns_answer.totals_by_kind.equals(sql_answer.totals_by_kind))
    if not ordered:  # a server orders words by its collation, the columns by code points: the rows must match
        key = list(columns_answer.columns)
        return (columns_answer.sort_values(key).reset_index(drop=True)
                .equals(sql_answer.sort_values(key).reset_index(drop=True)))
    return columns_answer.equals(sql_answer)


def _compare(engine, url: str, filters: list[PaymentFilter], *, ordered: bool = True, answering: bool = True) -> int:
    """Ask every question of every filter with the columns (or, not ``answering``, with columns that cannot be used)
    and from SQL alone; the number of answers compared."""
    reference = database.make_engine(url)
    payment_columns.switch_off(reference)
    compared = 0
    for f in filters:
        for name, ask in QUESTIONS.items():
            assert (payment_columns.current(engine) is not None) == answering, f"the columns must {'' if answering else 'not '}answer"
            answer, expected = ask(engine, f), ask(reference, f)
            assert _same(answer, expected, ordered=ordered), f"{name} of {f}:\n{answer}\n--- SQL ---\n{expected}"
            compared += 1
    reference.dispose()
    return compared


def test_columns_answer_every_question_of_any_filter_as_sql_does_and_follow_appends(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url)
    assert payment_columns.current(engine) is None  # a small ledger: nothing is built unasked
    assert payment_columns.refresh(engine) is not None
    rng = random.Random(7)
    assert _compare(engine, url, [PaymentFilter(), *(_filter(rng) for _ in range(150))]) > 1000

    before = len(payment_columns.current(engine))
    # new records, some dated before the newest kept: the columns extend (in time order) without a rebuild
    write_door.append_batch(engine, "payments", _payments(2, 80, 10_000, reversals=5), source="test", file="p1")
    extended = payment_columns.current(engine)
    assert extended is not None and len(extended) == before + 85
    assert _compare(engine, url, [PaymentFilter(), *(_filter(rng) for _ in range(60))]) > 400


def test_a_text_no_reference_holds_is_answered_from_the_columns_and_any_other_by_sql(tmp_path):
    """The memos' own LIKE decides (case folded for ASCII only, % and _ literal); a text some reference may hold,
    or too short to tell, goes to SQL — and the answers agree either way."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url)
    payment_columns.refresh(engine)
    answered = {text for text in TEXTS if explore._columns(engine, PaymentFilter(text=text)) is not None}
    assert answered == {"refund", "REFUND", "été", "ÉTÉ", "Été", "100%", "r_s", "d_o", "promo", "zzz"}
    assert _compare(engine, url, [PaymentFilter(text=text) for text in TEXTS]) == len(TEXTS) * len(QUESTIONS)
    counts = {text: explore.query_page(engine, PaymentFilter(text=text), page_size=1).total_count
              for text in ("refund", "ÉTÉ", "Été", "100%", "r_s", "d_o", "zzz")}
    assert counts["ÉTÉ"] == 0 < counts["Été"] and counts["d_o"] == 0 == counts["zzz"]  # "_" is no wildcard: "d o" is
    assert counts["refund"] > counts["100%"] > 0 and counts["r_s"] > 0

    # records appended later extend the memos and the references' pieces: a new reference's text goes to SQL,
    # a new memo's is found in the columns
    new = [row._replace(reference=f"Zebra Bank {row.source_key}", memo="Quokka fee") for row in _payments(3, 5, 20_000)]
    write_door.append_batch(engine, "payments", new, source="test", file="p2")
    assert payment_columns.current(engine) is not None
    assert explore._columns(engine, PaymentFilter(text="zebra")) is None
    assert explore._columns(engine, PaymentFilter(text="QUOKKA")) is not None
    assert _compare(engine, url, [PaymentFilter(text=text) for text in ("zebra", "QUOKKA", "refund")]) == 3 * len(QUESTIONS)
    assert explore.query_page(engine, PaymentFilter(text="quokka"), page_size=1).total_count == 5


def test_memos_past_their_limit_are_not_kept_and_texts_go_to_sql(tmp_path, monkeypatch):
    """More different memos than :data:`payment_columns.MEMO_WORDS`: the columns keep none (each text filter would
    test every one), text filters are answered by SQL, and the other filters still by the columns."""
    monkeypatch.setattr(payment_columns, "MEMO_WORDS", 4)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url)
    columns = payment_columns.refresh(engine)
    assert columns is not None and columns.memos is None and not columns.memo.any()
    assert explore._columns(engine, PaymentFilter(text="refund")) is None
    assert explore._columns(engine, PaymentFilter(kinds=(Kind.DEPOSIT,))) is not None
    assert _compare(engine, url, [PaymentFilter(text="refund"), PaymentFilter(text="zzz", kinds=(Kind.BONUS,))]) > 0


def test_a_replaced_ledger_is_never_answered_from_the_old_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url, seed=1)
    other = _ledger(f"sqlite:///{tmp_path / 'other.sqlite'}", seed=99, count=700)
    other.dispose()
    assert payment_columns.refresh(engine) is not None
    old_totals = explore.totals_by_kind(engine, PaymentFilter())
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(tmp_path / f"ledger.sqlite{suffix}"):
            os.remove(tmp_path / f"ledger.sqlite{suffix}")
    shutil.copy(tmp_path / "other.sqlite", tmp_path / "ledger.sqlite")
    assert payment_columns.current(engine) is None  # the kept columns describe another ledger: SQL answers
    reference = database.make_engine(url)
    payment_columns.switch_off(reference)
    assert explore.totals_by_kind(engine, PaymentFilter()).equals(explore.totals_by_kind(reference, PaymentFilter()))
    assert not explore.totals_by_kind(engine, PaymentFilter()).equals(old_totals)
    assert payment_columns.refresh(engine) is not None  # built again from the new ledger, and agreeing with it
    assert _compare(engine, url, [_filter(random.Random(3)) for _ in range(40)]) > 300


def _generation(engine) -> Path:
    folder = payment_columns.cache_folder(engine)
    return folder / (folder / "current").read_text().strip()


@pytest.mark.parametrize("damaged", ["amount.npy", "kind.npy", "reference_pieces.npy"])
def test_a_column_file_damaged_on_disk_is_never_read_as_money(tmp_path, damaged):
    """Bytes written over in a kept file (its size unchanged, so numpy still loads it) are found by the file's
    CRC-32 when a process loads the columns: SQL answers, and the next build makes sound columns again."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url)
    assert payment_columns.refresh(engine) is not None
    path = _generation(engine) / damaged
    assert not path.stat().st_mode & 0o222  # kept read-only: what a slip could otherwise cut short under a mapping
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(byte ^ 0xFF for byte in data[middle:middle + 64])
    path.write_bytes(bytes(data))
    payment_columns._LOADED.clear()  # as a new process finds them
    assert payment_columns.current(engine, build_in_background=False) is None
    assert explore._columns(engine, PaymentFilter()) is None
    assert _compare(engine, url, [PaymentFilter(), PaymentFilter(text="promo")], answering=False) == 2 * len(QUESTIONS)
    assert payment_columns.refresh(engine) is not None  # built again
    payment_columns._LOADED.clear()
    assert payment_columns.current(engine, build_in_background=False) is not None
    assert _compare(engine, url, [PaymentFilter(), *(_filter(random.Random(5)) for _ in range(20))]) > 100


def test_a_cache_that_cannot_be_written_leaves_sql_answering_and_says_why(tmp_path):
    """New records arrive while the cache folder cannot take a file (here a file-size limit of 1 kB, as a full disk
    does): the answers come from SQL, every one right, no error reaches the panel, and :func:`failure` says why."""
    import resource

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url)
    assert payment_columns.refresh(engine) is not None
    write_door.append_batch(engine, "payments", _payments(2, 40, 10_000), source="test", file="p1")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
    try:
        assert payment_columns.current(engine) is None
        assert payment_columns.failure(engine) is not None
        filters = [PaymentFilter(), *(_filter(random.Random(9)) for _ in range(10))]
        assert _compare(engine, url, filters, answering=False) > 50
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert payment_columns.current(engine) is None  # not tried again in this process: each try would read it all


def test_a_save_that_fails_while_the_folder_takes_files_is_tried_again(tmp_path):
    """A save can fail in a folder that can be written: another process saving the same columns removes every
    generation but its own, this one's half-written one too. Here a file-size limit of 1.5 MiB refuses the
    references' pieces file (2 MiB) but not a smaller one: the folder is not taken for one that cannot be written,
    SQL answers meanwhile, and an answer after the limit is lifted saves the columns and comes from them."""
    import resource

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url)
    assert payment_columns.refresh(engine) is not None
    write_door.append_batch(engine, "payments", _payments(2, 40, 10_000), source="test", file="p1")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 19, hard))
    try:
        assert payment_columns.current(engine) is None
        assert payment_columns.failure(engine) is None  # not taken for a cache that cannot be written
        assert _compare(engine, url, [PaymentFilter(), PaymentFilter(kinds=(Kind.DEPOSIT,))], answering=False) > 0
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert _compare(engine, url, [PaymentFilter(), *(_filter(random.Random(4)) for _ in range(10))]) > 50


def test_sums_that_could_pass_64_bits_are_left_to_sql(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url, count=50)
    huge = 4 * 10**18  # three of these add up past 2**63: the columns cannot sum them in int64
    write_door.append_batch(engine, "payments", [
        write_door.NewPayment(f"big{n}", account, Kind.DEPOSIT, huge, FIRST + timedelta(days=40 * n), "ana", Channel.WEB,
                              Method.CARD) for n, account in enumerate(("C1", "C3", "C5"))], source="test", file="big")
    assert payment_columns.refresh(engine) is not None
    totals = explore.totals_by_kind(engine, PaymentFilter(currencies=("USD",), kinds=("deposit",)))
    assert int(totals["amount"].astype(object).sum()) >= 3 * huge  # exact, past int64: SQL answered
    assert _compare(engine, url, [PaymentFilter(), PaymentFilter(accounts=("R1",), include_sub_accounts=True)]) == 2 * len(QUESTIONS)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_columns_answer_as_sql_does_on_the_servers(request, dialect):
    from db_servers import fresh_database  # the private servers of the test session

    url = fresh_database(request.getfixturevalue("postgresql" if dialect == "postgresql" else "mariadb"))
    engine = _ledger(url, count=400)
    assert payment_columns.refresh(engine) is not None
    rng = random.Random(11)
    assert _compare(engine, url, [PaymentFilter(), *(_filter(rng) for _ in range(40))], ordered=False) > 300
    write_door.append_batch(engine, "payments", _payments(5, 30, 20_000), source="test", file="p1")
    assert _compare(engine, url, [_filter(rng) for _ in range(15)], ordered=False) > 100
    engine.dispose()


def test_the_cache_is_kept_per_ledger_and_login():
    engine_a = database.make_engine("postgresql+psycopg://reseller_a:secret@db.example/ledger")
    engine_b = database.make_engine("postgresql+psycopg://reseller_b:secret@db.example/ledger")
    folder_a, folder_b = payment_columns.cache_folder(engine_a), payment_columns.cache_folder(engine_b)
    assert folder_a != folder_b  # a scoped login's columns hold only what it may read, apart from another's
    assert "secret" not in str(folder_a)
    assert payment_columns.cache_folder(database.make_engine("postgresql+psycopg://reseller_a:other@db.example/ledger")) \
        == folder_a  # the password is no part of the key


def test_dates_before_the_first_month_and_after_the_last_are_counted_like_sql(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url, count=200)
    assert payment_columns.refresh(engine) is not None
    edge = [PaymentFilter(start=date(2026, 1, 1), end=date(2026, 1, 1), timezone="Pacific/Kiritimati"),
            PaymentFilter(end=date(2026, 1, 31), timezone="America/Los_Angeles"),
            PaymentFilter(start=date(2026, 4, 30), timezone="Asia/Kolkata")]
    assert _compare(engine, url, edge) == len(edge) * len(QUESTIONS)


def test_a_scoped_logins_columns_hold_its_subtree_and_follow_a_move_into_it(postgresql):
    """A reseller's login keeps columns of its own records only; an account moved under it brings older records,
    and the columns are built again rather than answer without them."""
    import contextlib
    import io

    import sqlalchemy as sa
    from db_servers import fresh_database

    from vosbench.commands import main
    from vosbench.ledger import identity, scopes, tables
    from vosbench.sources.demo.build import build_demo
    from vosbench.sources.demo.scale import DemoScale

    url = fresh_database(postgresql, "columns_scoped")
    build_demo(url, DemoScale(customers=40, months=3), progress=False)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main.main(["server", "init", "--db", url]) == 0
    owner = database.make_engine(url)
    identity.register(owner, "res.cols", "reseller:R0001", password="scoped-pw")
    with owner.connect() as connection:
        views = scopes.login_database(connection, "reseller:R0001")
        accounts = tables.current_accounts
        root = connection.scalar(sa.select(tables.accounts.c.id).where(tables.accounts.c.account == "R0001"))
        inside = sa.select(tables.account_tree.c.account_id).where(tables.account_tree.c.ancestor_id == root)
        agent = connection.scalar(sa.select(accounts.c.account).where(accounts.c.kind == "agent",
                                                                      accounts.c.id.in_(inside)))
        outside = connection.execute(sa.select(accounts).where(
            accounts.c.kind == "customer", accounts.c.id.not_in(inside),
            accounts.c.id.in_(sa.select(tables.payments.c.account_id)))).first()
    reseller_url = sa.make_url(url).set(username="res.cols", password="scoped-pw", database=views) \
        .render_as_string(hide_password=False)
    reseller = database.make_engine(reseller_url)
    columns = payment_columns.refresh(reseller)
    with reseller.connect() as connection:
        assert columns is not None and len(columns) == connection.scalar(sa.select(sa.func.count()).select_from(tables.payments))
    filters = [PaymentFilter(), PaymentFilter(kinds=("deposit",)), PaymentFilter(methods=("card", "cash"))]
    _compare(reseller, reseller_url, filters, ordered=False)
    before = explore.totals_by_kind(reseller, PaymentFilter())["count"].sum()

    write_door.append_batch(owner, "accounts", [write_door.NewAccount(
        outside.account, outside.name, AccountKind(outside.kind), agent, outside.credit_limit, outside.currency,
        outside.timezone)], source="test", file="move")
    assert payment_columns.current(reseller) is None  # the subtree changed: never the old columns
    assert explore.totals_by_kind(reseller, PaymentFilter())["count"].sum() > before
    assert payment_columns.refresh(reseller) is not None
    _compare(reseller, reseller_url, filters, ordered=False)


def test_a_large_ledger_is_answered_by_sql_while_its_columns_build_in_the_background(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = _ledger(url, count=300)
    monkeypatch.setattr(payment_columns, "BACKGROUND_FROM", 100)  # this ledger counts as large
    assert payment_columns.current(engine) is None  # the first open does not wait for the build …
    for _ in range(600):  # … which runs in a thread
        if payment_columns.progress(engine) is None:
            break
        threading.Event().wait(0.05)
    assert payment_columns.current(engine) is not None
    assert _compare(engine, url, [PaymentFilter(), _filter(random.Random(5))]) == 2 * len(QUESTIONS)
