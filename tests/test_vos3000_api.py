"""The VOS3000 Web API client and sync, against a local HTTP server on 127.0.0.1 that follows
the documented protocol: POST /external/server/<Name>, JSON in and out, retCode errors
(-12103 missing parameters, -10007 not found, -10033 query interval too large)."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from vosbench.ledger import identity, setup
from vosbench.sources.vos3000 import api, apisync, mapping, state
from vosbench.sources.vos3000.convert import to_epoch_ms

MAX_DAYS = 3  # this switch refuses longer query intervals


def _ms(text: str) -> int:
    return to_epoch_ms(datetime.fromisoformat(text))


CUSTOMERS = {
    "A1": {"account": "A1", "name": "Agent One", "money": 500.0, "limitMoney": 0.0, "category": 1, "agentAccount": ""},
    "C1": {"account": "C1", "name": "Customer One", "money": 62.5, "limitMoney": 10.0, "category": 0, "agentAccount": "A1"},
}
PAYMENTS = {
    "A1": [{"account": "A1", "fee": 500.0, "type": 2, "payType": 0, "customerMoney": 500.0,
            "payTime": _ms("2026-10-01 08:00"), "memo": "opening"}],
    "C1": [{"account": "C1", "fee": 100.0, "type": 2, "payType": 0, "customerMoney": 100.0,
            "payTime": _ms("2026-10-01 09:00"), "memo": "opening"},
           {"account": "C1", "fee": 20.0, "type": 1, "payType": 5, "customerMoney": 80.0,
            "payTime": _ms("2026-10-05 10:00"), "memo": "refund"}],
}
REPORTS = [{"beginTime": _ms("2026-10-02"), "endTime": _ms("2026-10-03"), "account": "C1", "accountName": "Customer One",
            "cdrCount": 40, "totalFee": 15.0, "totalTime": 2400, "totalSuiteFee": 0.0}]
CONSUMPTIONS = {"C1": [{"account": "C1", "money": 2.5, "customerMoney": 62.5, "type": 0,
                        "consumptionName": "package rent", "time": _ms("2026-10-06 00:30")}]}


class FakeSwitch(BaseHTTPRequestHandler):
    calls: list = []
    fail_next = 0  # answer HTTP 503 this many times (retries)
    pay_reply: dict | None = None  # Pay's infoPay as given, instead of the computed one
    drop_pay_answer = False  # do the Pay, then close the connection without answering
    rewrite: dict = {}  # call name -> a change of its reply's records (a switch answering other than documented)
    paid: dict = {}  # account -> the records Pay (or the switch's own screens) wrote, after PAYMENTS
    moved: dict = {}  # account -> what those records moved its balance by

    @classmethod
    def record_payment(cls, account: str, money: float, memo: str = "", at_ms: int | None = None) -> dict:
        """A payment the switch records (as Pay and its own screens do): in its history, and on the balance."""
        cls.moved[account] = cls.moved.get(account, 0.0) + money
        record = {"account": account, "fee": money, "type": 0, "payType": 5,
                  "customerMoney": CUSTOMERS[account]["money"] + cls.moved[account],
                  "payTime": at_ms if at_ms is not None else to_epoch_ms(datetime.now(UTC).replace(tzinfo=None)),
                  "memo": memo}
        cls.paid.setdefault(account, []).append(record)
        return record

    def log_message(self, *_args):
        pass

    def _reply(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's name)
        prefix = "/external/server/"
        if not self.path.startswith(prefix):
            return self._reply({"retCode": -1, "exception": "no such path"}, 404)
        name = self.path[len(prefix):]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeSwitch.calls.append((name, body))
        if FakeSwitch.fail_next:
            FakeSwitch.fail_next -= 1
            return self._reply({}, 503)
        answer = self.answer(name, body)  # once: Pay changes the switch
        if name in FakeSwitch.rewrite and isinstance(answer, dict):  # a reply not as documented
            field, = answer
            rows = answer[field]
            answer = {field: FakeSwitch.rewrite[name](rows) if rows else rows}
        if name == "Pay" and FakeSwitch.drop_pay_answer:
            self.close_connection = True  # the deposit is made; its answer is lost on the way
            return
        self._reply({"retCode": 0, **answer} if not isinstance(answer, int)
                    else {"retCode": answer, "exception": {-12103: "missing parameters", -10007: "not found",
                                                            -10033: "query interval too large"}[answer]})

    def answer(self, name: str, body: dict):
        if name == "GetAllCustomers":
            return {"infoCustomerBriefs": [{k: c[k] for k in ("account", "money", "limitMoney")} for c in CUSTOMERS.values()]}
        if name == "GetCustomer":
            if "filterAgentAccount" in body:
                agent = body["filterAgentAccount"]["filterAgentAccount"]
                return {"infoCustomers": [c for c in CUSTOMERS.values() if c["agentAccount"] == agent]}
            if "accounts" not in body:
                return -12103
            missing = [a for a in body["accounts"] if a not in CUSTOMERS]
            return -10007 if missing else {"infoCustomers": [CUSTOMERS[a] for a in body["accounts"]]}
        if name in ("GetPayHistory", "GetConsumption"):
            if "beginTime" not in body or "endTime" not in body or "account" not in body:
                return -12103
            begin, end = (datetime.strptime(body[k], "%Y%m%d%H%M%S") for k in ("beginTime", "endTime"))
            if (end - begin).days > MAX_DAYS:
                return -10033
            rows, field, at = ((PAYMENTS, "infoPayHistorys", "payTime") if name == "GetPayHistory"
                               else (CONSUMPTIONS, "infoConsumptions", "time"))
            paid = FakeSwitch.paid.get(body["account"], []) if name == "GetPayHistory" else []
            return {field: [r for r in rows.get(body["account"], []) + paid
                            if to_epoch_ms(begin) <= r[at] < to_epoch_ms(end)]}
        if name == "GetReportCustomerFee":
            begin, end = (datetime.strptime(body[k], "%Y%m%d") for k in ("beginTime", "endTime"))
            return {"infoReportCustomerFees": [r for r in REPORTS if r["account"] in body["accounts"]
                                               and to_epoch_ms(begin) <= r["beginTime"] <= to_epoch_ms(end)]}
        if name == "Pay":
            account = CUSTOMERS.get(body["ownerName"])
            if account is None:
                return -10007
            record = FakeSwitch.record_payment(body["ownerName"], float(body["money"]), body.get("memo", ""))
            if FakeSwitch.pay_reply is not None:
                return {"infoPay": FakeSwitch.pay_reply}
            return {"infoPay": {"account": body["ownerName"], "money": record["customerMoney"],
                                "validTime": 0, "payMoney": float(body["money"])}}
        return -12103


@pytest.fixture
def switch():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSwitch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeSwitch.calls, FakeSwitch.fail_next, FakeSwitch.pay_reply, FakeSwitch.paid, FakeSwitch.moved = [], 0, None, {}, {}
    FakeSwitch.drop_pay_answer = False
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _client(url, **options):
    return api.Client(url, rate=None, backoff=0.01, window_days=7, **options)


def test_a_refusal_raises_with_its_code_and_text(switch):
    with pytest.raises(api.ApiError) as raised:
        _client(switch).customers(["NOPE"])
    assert raised.value.code == -10007 and raised.value.text == "not found"


def test_an_agents_accounts_come_from_filter_agent_account(switch):
    assert [c["account"] for c in _client(switch).customers_of_agent("A1", direct_only=True)] == ["C1"]
    assert FakeSwitch.calls[-1] == ("GetCustomer", {"filterAgentAccount": {"filterAgentAccount": "A1",
                                                                           "querySonMode": 1}})
    with pytest.raises(api.ApiError, match="-12103"):
        _client(switch).call("GetCustomer", {})


def test_long_ranges_are_split_until_the_switch_accepts_them(switch):
    records = _client(switch).pay_history(datetime(2026, 10, 1), datetime(2026, 10, 11), account="C1")
    assert [r["fee"] for r in records] == [100.0, 20.0]
    asked = [(b["beginTime"], b["endTime"]) for name, b in FakeSwitch.calls if name == "GetPayHistory"]
    assert asked[0] == ("20261001000000", "20261008000000")  # refused (-10033), then halved
    assert all((datetime.strptime(e, "%Y%m%d%H%M%S") - datetime.strptime(b, "%Y%m%d%H%M%S")).days <= MAX_DAYS
               for b, e in asked[1:])


def test_server_errors_are_retried_then_reported(switch):
    FakeSwitch.fail_next = 2
    assert len(_client(switch, retries=2).all_customers()) == 2
    FakeSwitch.fail_next = 5
    with pytest.raises(api.ApiUnavailable, match="HTTP 503 after 3 attempt"):
        _client(switch, retries=2).all_customers()


def test_sync_through_the_api_lands_accounts_payments_charges_and_balances(tmp_path, switch):
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    now = datetime(2026, 11, 2, 12)
    report = apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                              progress=False, now=now)
    assert (report.accounts_added, report.payments_added, report.charges_added) == (2, 3, 2)
    with ledger.connect() as connection:
        rows = connection.exec_driver_sql("SELECT source_key, kind, amount, channel FROM payments ORDER BY id").all()
        charges = connection.exec_driver_sql("SELECT day, call_fee, other_fee, calls FROM charges ORDER BY day").all()
        parent = connection.exec_driver_sql("SELECT p.account FROM accounts a JOIN accounts p ON p.id = a.parent_id").all()
    assert ("C1/" + str(_ms("2026-10-05 10:00")) + "/0", "withdrawal", -200_000, "admin") in rows
    assert charges == [("2026-10-02", 150_000, 0, 40), ("2026-10-06", 0, 25_000, 0)]
    assert parent == [("A1",)]
    again = apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                             progress=False, now=now.replace(hour=13))  # an hour later, nothing moved
    assert (again.payments_added, again.charges_added, again.snapshots_added) == (0, 0, 0)
    assert state.marks(ledger, "vos3000-api")["api"].mark == "2026-10-31"


def test_a_balance_or_limit_the_switch_gives_as_null_is_flagged_or_read_as_none_not_a_traceback(
        tmp_path, switch, monkeypatch):
    """GetAllCustomers / GetCustomer may give money or limitMoney as null (VOS3000's columns are nullable): the
    balance takes no snapshot, flagged, and the limit is no overdraft. Both ended in a TypeError traceback."""
    monkeypatch.setitem(CUSTOMERS, "C1", CUSTOMERS["C1"] | {"money": None, "limitMoney": None})
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    report = apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                              progress=False, now=datetime(2026, 11, 2, 12))
    assert (report.payments_added, report.snapshots_added) == (3, 1) and "balance_missing" in report.flags
    assert [(flag.source_key, flag.code) for flag in state.flags(ledger, "vos3000-api")] == [("C1", "balance_missing")]
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("SELECT credit_limit FROM accounts WHERE account = 'C1'").scalar() == 0


def test_pay_needs_confirmation_and_lands_with_channel_api(tmp_path, switch):
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                     progress=False, now=datetime(2026, 11, 2))
    with pytest.raises(ValueError, match="'ops' is not registered"):
        apisync.pay_deposit(ledger, _client(switch), "C1", "12.50", operator="ops", confirm=True)
    identity.register(ledger, "ops", "clerk")
    with pytest.raises(ValueError, match="confirm"):
        apisync.pay_deposit(ledger, _client(switch), "C1", "12.50", operator="ops")
    with pytest.raises(ValueError, match="at or above the USD deposit threshold 10,000.00; it needs a supervisor"):
        apisync.pay_deposit(ledger, _client(switch), "C1", "10000.00", operator="ops", confirm=True)
    assert not [name for name, _ in FakeSwitch.calls if name == "Pay"]
    payment_id = apisync.pay_deposit(ledger, _client(switch), "C1", "12.50", operator="ops", confirm=True).payment_id
    assert [body for name, body in FakeSwitch.calls if name == "Pay"] == [
        {"ownerName": "C1", "ownerType": 2, "money": "12.5", "memo": ""}]
    with ledger.connect() as connection:
        row = connection.execute(sa.text("SELECT kind, amount, channel, balance_after FROM payments WHERE id = :id"),
                                 {"id": payment_id}).one()
    assert tuple(row) == ("deposit", 125_000, "api", 750_000)


def test_a_paid_deposit_synced_back_from_the_switch_counts_once_and_a_second_one_still_lands(tmp_path, switch):
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                     progress=False, now=datetime(2026, 11, 2))
    identity.register(ledger, "ops", "clerk")
    paid = apisync.pay_deposit(ledger, _client(switch), "C1", "12.50", operator="ops", memo="top-up", confirm=True)
    today = datetime.now(UTC).date()
    # to tomorrow: the second deposit, a minute after the first, falls after midnight when the test runs just before
    window = {"start": (today - timedelta(days=1)).isoformat(), "end": (today + timedelta(days=1)).isoformat()}

    def deposits() -> list:
        with ledger.connect() as connection:
            return connection.execute(sa.text("SELECT id, source_key, amount FROM payments WHERE kind = 'deposit' "
                                              "AND occurred_at >= :day ORDER BY id"), {"day": str(today)}).all()

    report = apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), progress=False, **window)
    assert (report.payments_added, report.payments_present) == (0, 1)  # the switch's record of the Pay
    assert [row.id for row in deposits()] == [paid.payment_id]
    [flag] = [f for f in state.flags(ledger, "vos3000-api") if f.code == "pay_recorded"]
    assert flag.detail == f"the deposit `sync vos3000-api --pay` recorded as payment {paid.payment_id}; not added again"
    # the same amount paid again at the switch's own screen a minute later is another deposit
    FakeSwitch.record_payment("C1", 12.5, "cash at the desk",
                              at_ms=FakeSwitch.paid["C1"][0]["payTime"] + 60_000)
    again = apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), progress=False, **window)
    assert (again.payments_added, again.payments_present) == (1, 1)
    assert [row.amount for row in deposits()] == [125_000, 125_000]
    assert apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), progress=False,
                            **window).payments_added == 0


def test_pay_is_sent_once_and_a_lost_answer_says_do_not_pay_again_while_the_sync_brings_the_deposit_in(tmp_path, switch):
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                     progress=False, now=datetime(2026, 11, 2))
    identity.register(ledger, "ops", "clerk")

    def pays() -> int:
        return sum(1 for name, _ in FakeSwitch.calls if name == "Pay")

    FakeSwitch.fail_next = 1  # an HTTP 503: whether the switch acted cannot be told
    with pytest.raises(api.PayOutcomeUnknown, match="HTTP 503.*Do not pay it again: run `vosbench sync vos3000-api`"):
        apisync.pay_deposit(ledger, _client(switch), "C1", "12.50", operator="ops", confirm=True)
    assert pays() == 1  # never retried, though every other call is
    FakeSwitch.drop_pay_answer = True  # the switch takes the deposit, its answer never arrives
    with pytest.raises(api.PayOutcomeUnknown, match="may have moved on the switch"):
        apisync.pay_deposit(ledger, _client(switch), "C1", "7.00", operator="ops", confirm=True)
    assert pays() == 2
    with ledger.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM payments WHERE channel = 'api'").scalar() == 0
    today = datetime.now(UTC).date()
    report = apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), progress=False,
                              start=(today - timedelta(days=1)).isoformat(), end=today.isoformat())
    assert report.payments_added == 1  # the 7.00 the switch took, once
    with socket.socket() as closed:  # a port nobody listens on: the Pay never left
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(api.ApiUnavailable, match="nothing was paid"):
        apisync.pay_deposit(ledger, _client(nowhere), "C1", "7.00", operator="ops", confirm=True)


def test_the_sync_command_reads_the_api_and_pay_needs_confirm(tmp_path, switch, capsys):
    from vosbench.commands import main

    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    assert main.main(["sync", "vos3000-api", "--db", db, "--url", switch, "--from", "2026-10-01", "--to", "2026-10-31",
                     "--rate", "0", "--quiet"]) == 0
    assert "3 payments added" in capsys.readouterr().out
    assert main.main(["sync", "vos3000-api", "--db", db, "--url", switch, "--pay", "C1", "--amount", "5.00",
                     "--operator", "ops"]) == 2
    assert "--confirm" in capsys.readouterr().err
    assert not [name for name, _ in FakeSwitch.calls if name == "Pay"]


def _payable_ledger(tmp_path, switch):
    """A ledger synced from the stand-in switch, with operator ``ops`` registered to pay deposits."""
    ledger = setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", create=True)
    apisync.sync_api(ledger, _client(switch), mapping=mapping.load(), start="2026-10-01", end="2026-10-31",
                     progress=False, now=datetime(2026, 11, 2))
    identity.register(ledger, "ops", "clerk")
    return ledger


def _pay_records(ledger) -> list[tuple]:
    with ledger.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(
            "SELECT source, amount, balance_after FROM payments WHERE channel = 'api'"))]


@pytest.mark.parametrize("amount, sent", [("1000.00", "1000"), ("1000", "1000"), ("2500.5000", "2500.5"),
                                          ("0.0001", "0.0001")])
def test_pay_sends_the_amount_as_plain_decimal_text(tmp_path, switch, amount, sent):
    ledger = _payable_ledger(tmp_path, switch)
    apisync.pay_deposit(ledger, _client(switch), "C1", amount, operator="ops", confirm=True)
    assert [body["money"] for name, body in FakeSwitch.calls if name == "Pay"] == [sent]


@pytest.mark.parametrize("reply", [{"money": "abc"}, {"money": "1e300"}, {"money": 1e300}, {"money": None},
                                   {"money": 12.34567}, {}])
def test_an_unreadable_balance_in_pays_reply_still_records_the_deposit_sent(tmp_path, switch, capsys, reply):
    from vosbench.commands import main

    _payable_ledger(tmp_path, switch)
    FakeSwitch.pay_reply = {"account": "C1", **reply}
    assert main.main(["sync", "vos3000-api", "--db", f"sqlite:///{tmp_path / 'l.sqlite'}", "--url", switch,
                      "--pay", "C1", "--amount", "5.00", "--operator", "ops", "--confirm"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: VOS3000's reply to Pay has no readable new balance (infoPay.money")
    assert "deposit recorded on VOS3000 and in the ledger as payment" in out
    assert _pay_records(setup.open_ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")) == [("vos3000-api", 50_000, None)]


def test_a_deposit_the_ledger_cannot_record_says_do_not_pay_again_and_how_to_record_it(tmp_path, switch, monkeypatch):
    from vosbench.commands import main

    ledger = _payable_ledger(tmp_path, switch)

    def locked(*_args, **_kwargs):
        raise sa.exc.OperationalError("INSERT INTO payments", {}, Exception("database is locked"))

    monkeypatch.setattr(apisync, "append_batch", locked)
    with pytest.raises(apisync.PaidNotRecorded) as raised:
        apisync.pay_deposit(ledger, _client(switch), "C1", "12.50", operator="ops", memo="top-up, cash", confirm=True)
    message = str(raised.value)
    assert message.startswith("VOS3000 HAS ALREADY TAKEN this deposit of 12.5000 to C1 (Pay answered), but the "
                              "ledger could not record it: database is locked. Do NOT pay it again.")
    assert _pay_records(ledger) == []
    monkeypatch.undo()
    (tmp_path / "payments.csv").write_text(message.split(":\n", 1)[1])
    assert main.main(["import", "--db", f"sqlite:///{tmp_path / 'l.sqlite'}", "--source", "vos3000-api",
                      str(tmp_path / "payments.csv")]) == 0
    assert _pay_records(ledger) == [("vos3000-api", 125_000, 750_000)]
    assert len([name for name, _ in FakeSwitch.calls if name == "Pay"]) == 1


@pytest.mark.parametrize("call, change, said", [
    ("GetPayHistory", lambda rows: [{k: v for k, v in rows[0].items() if k != "payTime"}, *rows[1:]],
     "VOS3000 GetPayHistory: infoPayHistorys record 1 has no payTime (a whole number expected)"),
    ("GetPayHistory", lambda rows: [rows[0] | {"fee": None}, *rows[1:]],
     "VOS3000 GetPayHistory: infoPayHistorys record 1 has no fee (a number expected)"),
    ("GetPayHistory", lambda rows: [rows[0] | {"customerMoney": "eighty"}, *rows[1:]],
     'VOS3000 GetPayHistory: infoPayHistorys record 1 holds "eighty" as customerMoney (a number expected)'),
    ("GetPayHistory", lambda rows: [rows[0] | {"type": "two"}, *rows[1:]],
     'infoPayHistorys record 1 holds "two" as type (a whole number or null expected)'),
    ("GetConsumption", lambda rows: [row | {"time": "2026-10-06"} for row in rows],
     'VOS3000 GetConsumption: infoConsumptions record 1 holds "2026-10-06" as time (a whole number expected)'),
    ("GetConsumption", lambda rows: ["package rent 2.5" for _ in rows],
     "VOS3000 GetConsumption: infoConsumptions record 1 is str, not a record"),
    ("GetAllCustomers", lambda rows: [{k: v for k, v in row.items() if k != "account"} for row in rows],
     "VOS3000 GetAllCustomers: infoCustomerBriefs record 1 has no account (text expected)"),
    ("GetReportCustomerFee", lambda rows: {"C1": rows},
     "VOS3000 GetReportCustomerFee: infoReportCustomerFees is dict, not a list of records"),
], ids=["no-pay-time", "null-fee", "text-balance", "text-type", "text-time", "not-a-record", "no-account", "not-a-list"])
def test_a_reply_whose_records_are_not_as_documented_is_refused_in_one_line_and_nothing_of_its_stream_is_written(
        tmp_path, switch, capsys, monkeypatch, call, change, said):
    """A record lacking a field or holding another type ended in a KeyError or TypeError traceback."""
    from vosbench.commands import main

    monkeypatch.setattr(FakeSwitch, "rewrite", {call: change})
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    code = main.main(["sync", "vos3000-api", "--db", db, "--url", switch, "--from", "2026-10-01", "--to", "2026-10-31",
                      "--rate", "0", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert said in err and f"check that {switch} is the VOS3000 Web API" in err
    ledger = setup.open_ledger(db, create=True)
    with ledger.connect() as connection:
        payments, charges = (connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                             for table in ("payments", "charges"))
    # the payments are read and appended before the charges are asked for; a rerun adds what is missing
    assert (payments, charges) == ((3, 0) if call in ("GetConsumption", "GetReportCustomerFee") else (0, 0))
    assert "api" not in state.marks(ledger, "vos3000-api")  # the range is not marked done: a rerun asks it again
