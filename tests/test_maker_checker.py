"""Maker-checker on every path, with operators who are registered identities, on all three dialects.

Entries of any channel and kind (commissions and bonuses too) and reversals above their
threshold wait for a supervisor other than the maker; unknown names, clerks approving,
makers approving their own entry and second approvals are refused with one line. On a
server the operator is the database login: a different ``--operator`` is refused, and so is
a different ``--by`` of a finding's annotation or a matching decision. Four
processes approving one request at the same moment give one posting and three clean
refusals.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import traceback
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from db_servers import fresh_database
from team_ledger import PASSWORD
from team_ledger import as_login as _as
from team_ledger import build as _ledger
from team_ledger import login_engine as _engine

from vosbench.analysis.matching import decisions
from vosbench.commands import main
from vosbench.controls import runner
from vosbench.core.errors import VosbenchError
from vosbench.ledger import approvals, database, identity, policy, tables, verification
from vosbench.ledger.policy import from_mapping

RULES = from_mapping({"approval_thresholds": {"USD": {
    "deposit": "10000.00", "bonus": "1000.00", "commission": "1000.00", "withdrawal": "10000.00"}}})
AT = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
CHECKERS = ("bob", "cy", "dee", "eve")
RACERS = len(CHECKERS)


def _payments(url: str) -> list:
    engine = database.make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(tables.payments).order_by(tables.payments.c.id)).all()
    engine.dispose()
    return rows


@pytest.mark.parametrize("kind, amount, channel", [
    ("deposit", "50000.00", "web"), ("bonus", "5000.00", "automatic"), ("commission", "99999.00", "admin"),
])
def test_every_channel_and_kind_waits_above_its_threshold(team_url, kind, amount, channel):
    account = "A1" if kind == "commission" else "C1"
    done = approvals.submit(_engine(team_url, "ann"), RULES, account=account, kind=kind, amount=amount,
                            operator="ann", occurred_at=AT, channel=channel)
    assert done.status == "pending" and _payments(team_url) == []
    payment_id = approvals.approve(_engine(team_url, "bob"), done.id, checker="bob")
    (posted,) = _payments(team_url)
    assert (posted.id, posted.kind, posted.operator, posted.approved_by) == (payment_id, kind, "ann", "bob")


def _large_deposit_and_its_reversal_waiting(url: str) -> tuple[int, approvals.Submission]:
    """ann's 12,000.00 deposit, approved by bob, and ann's reversal of it waiting for a supervisor."""
    first = approvals.submit(_engine(url, "ann"), RULES, account="C1", kind="deposit", amount="12000.00",
                             operator="ann", occurred_at=AT)
    original = approvals.approve(_engine(url, "bob"), first.id, checker="bob")
    return original, approvals.submit_reversal(_engine(url, "ann"), RULES, original, reason="entered twice",
                                               operator="ann")


def test_a_reversal_of_a_large_payment_waits_for_a_supervisor(team_url):
    original, waiting = _large_deposit_and_its_reversal_waiting(team_url)
    assert waiting.status == "pending" and len(_payments(team_url)) == 1
    with pytest.raises(approvals.ApprovalError, match="a different operator must approve it"):
        approvals.approve(_engine(team_url, "ann"), waiting.id, checker="ann")
    reversal = approvals.approve(_engine(team_url, "cy"), waiting.id, checker="cy")
    posted = _payments(team_url)[-1]
    assert (posted.id, posted.reverses_id, posted.amount, posted.approved_by) == (
        reversal, original, -120_000_000, "cy")
    small = approvals.submit(_engine(team_url, "ann"), RULES, account="C1", kind="deposit", amount="10.00",
                             operator="ann", occurred_at=AT)
    assert approvals.submit_reversal(_engine(team_url, "ann"), RULES, small.id, reason="typo",
                                     operator="ann").status == "recorded"
    assert verification.verify(database.make_engine(team_url)).ok


def test_a_payment_has_one_reversal_waiting_or_posted_never_two(team_url):
    original, waiting = _large_deposit_and_its_reversal_waiting(team_url)
    with pytest.raises(approvals.ApprovalError, match=f"request {waiting.id} .* already waits for approval of the "
                                                      f"reversal of payment {original}"):
        approvals.submit_reversal(_engine(team_url, "dee"), RULES, original, reason="entered twice", operator="dee")
    reversal = approvals.approve(_engine(team_url, "cy"), waiting.id, checker="cy")
    with pytest.raises(approvals.ApprovalError, match=f"payment {original} is already reversed by payment {reversal}"):
        approvals.submit_reversal(_engine(team_url, "ann"), RULES, original, reason="again", operator="ann")
    assert len(approvals.requests(_engine(team_url, "cy"))) == 0 and len(_payments(team_url)) == 2


@pytest.mark.parametrize("checker, message", [
    ("ann", "a different operator must approve it"),
    ("alice", "only a supervisor approves entries"),
    ("nobody", "'nobody' is not registered (known: a, alice, ann, bob, cy, dee, eve)"),
])
def test_the_wrong_checker_is_refused_in_one_line(team_url, checker, message):
    if team_url.startswith(("postgresql", "mysql")) and checker == "nobody":
        with pytest.raises(sa.exc.OperationalError):  # no login: the server itself refuses to let them in
            with _engine(team_url, checker).connect():
                pass
        return
    done = approvals.submit(_engine(team_url, "ann"), RULES, account="C1", kind="deposit", amount="20000.00",
                            operator="ann", occurred_at=AT)
    with pytest.raises(VosbenchError) as refused:
        approvals.approve(_engine(team_url, checker), done.id, checker=checker)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert _payments(team_url) == []


def test_unknown_makers_are_refused_with_the_known_ones(tmp_path, capsys):
    url = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path / "in")
    code = main.main(["record", "--db", url, "--account", "C1", "--kind", "deposit", "--amount", "1",
                      "--operator", "nobody", "--method", "cash"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "operator 'nobody' is not registered (known: a, alice, ann, bob, cy, dee, eve)" in err


def test_on_a_server_the_operator_is_the_login(postgresql, tmp_path, capsys, monkeypatch):
    url = _ledger(fresh_database(postgresql), tmp_path / "in")
    as_ann = _as(url, "ann")
    argv = ["record", "--db", as_ann, "--account", "C1", "--kind", "deposit", "--amount", "1", "--method", "cash"]
    assert main.main([*argv, "--operator", "bob"]) == 2
    assert "you are connected as ann; --operator bob differs" in capsys.readouterr().err
    assert main.main([*argv, "--operator", "ann"]) == 0
    assert [(p.operator, p.amount) for p in _payments(url)] == [("ann", 10_000)]
    # operators add: the password from the environment, never from a flag
    monkeypatch.setenv("NEW_LOGIN_PASSWORD", "fresh-pw")
    assert main.main(["operators", "--db", url, "add", "fay", "--role", "agent:A1",
                      "--password-env", "NEW_LOGIN_PASSWORD"]) == 0
    assert "operator fay registered as agent:A1; login fay created" in capsys.readouterr().out
    reader = database.make_engine(sa.make_url(url).set(username="fay", password="fresh-pw")
                                  .render_as_string(hide_password=False))
    with reader.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.payments)) == 1
    with pytest.raises(VosbenchError, match="operator fay is an agent:A1; only a clerk, a supervisor or an operator enters"):
        approvals.submit(reader, RULES, account="C1", kind="deposit", amount="1", operator="fay")
    reader.dispose()
    monkeypatch.delenv("NEW_LOGIN_PASSWORD")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    assert main.main(["operators", "--db", url, "add", "gus", "--role", "clerk"]) == 2
    assert "no password: set VOSBENCH_OPERATOR_PASSWORD" in capsys.readouterr().err


def test_annotations_and_matching_decisions_are_made_by_registered_operators(team_url, capsys):
    on_server = not team_url.startswith("sqlite")
    engine = database.make_engine(team_url)
    identity.register(engine, "ida", "auditor", password=PASSWORD if on_server else None)
    # a small deposit ann enters today dated in October: a finding of October's (back-dated) to annotate
    approvals.submit(_engine(team_url, "ann"), RULES, account="C1", kind="deposit", amount="1.00", operator="ann",
                     occurred_at=AT)
    finding_id = runner.run(engine, "2026-10", policy.load()).findings[0].finding_id
    engine.dispose()

    def annotate(login: str, by: str | None) -> tuple[int, str]:
        argv = ["findings", "--db", _as(team_url, login), "annotate", finding_id, "--month", "2026-10", "--status", "open"]
        code = main.main([*argv, *(["--by", by] if by else [])])
        return code, capsys.readouterr().err

    if on_server:
        code, err = annotate("ida", "bob")
        assert code == 2 and "you are connected as ida; --by bob differs" in err
        assert annotate("ida", None)[0] == 0  # the login is the author
    else:
        code, err = annotate("ida", None)
        assert code == 2 and "say who annotates findings (--by LOGIN" in err
        code, err = annotate("ida", "nobody")
        assert code == 2 and "'nobody' is not registered (known: a, alice, ann, bob, cy, dee, eve, ida)" in err
        assert annotate("ida", "ida")[0] == 0
    code, err = annotate("ann", "ann")
    assert code == 2 and "operator ann is a clerk; only an auditor or a supervisor annotates findings" in err
    engine = database.make_engine(team_url)
    with engine.connect() as connection:
        assert list(connection.scalars(sa.select(tables.finding_annotations.c.author))) == ["ida"]
    engine.dispose()
    decide = dict(line_ids=[1], payment_ids=[1], note="seen")
    if on_server:
        with pytest.raises(identity.IdentityError, match="you are connected as ida; --by bob differs"):
            decisions.record(_engine(team_url, "ida"), "confirm", decided_by="bob", **decide)
    else:
        with pytest.raises(identity.IdentityError, match="'fay' is not registered"):
            decisions.record(_engine(team_url, "ida"), "confirm", decided_by="fay", **decide)
    # the right person gets as far as the ids (there are no statement lines here)
    with pytest.raises(decisions.DecisionError, match="statement line 1 does not exist"):
        decisions.record(_engine(team_url, "ida"), "confirm", decided_by=None if on_server else "ida", **decide)


def _at_once(url: str, login: str, act, barrier, results) -> None:
    """One racer: wait for the others, ``act`` on its own engine, report the outcome ``act`` names, a refusal or
    a traceback, as text."""
    engine = _engine(url, login)
    barrier.wait()
    try:
        results.put(act(engine))
    except VosbenchError as error:
        results.put(("refused", login, str(error)))
    except BaseException:  # noqa: BLE001  (the test reports any traceback as a failure)
        results.put(("traceback", login, traceback.format_exc()))
    finally:
        engine.dispose()


def _approve_at_once(url: str, request_id: int, checker: str, barrier, results) -> None:
    """One racing checker: approve the request."""
    def approve(engine) -> tuple:
        with contextlib.redirect_stderr(io.StringIO()):
            return "posted", checker, approvals.approve(engine, request_id, checker=checker)
    _at_once(url, checker, approve, barrier, results)


def test_racing_approvals_post_once_and_refuse_the_rest_cleanly(team_url):
    done = approvals.submit(_engine(team_url, "ann"), RULES, account="C1", kind="deposit", amount="20000.00",
                            operator="ann", occurred_at=AT)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(RACERS), context.Queue()
    racers = [context.Process(target=_approve_at_once, args=(team_url, done.id, checker, barrier, results))
              for checker in CHECKERS]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
    assert [kind for kind, *_ in outcomes if kind == "traceback"] == [], outcomes
    posted = [outcome for outcome in outcomes if outcome[0] == "posted"]
    refused = [outcome for outcome in outcomes if outcome[0] == "refused"]
    assert len(posted) == 1 and len(refused) == RACERS - 1, outcomes
    winner = posted[0][1]
    for _, _checker, message in refused:
        assert message == (f"approval request {done.id} was already approved by {winner} at "
                           f"{message.split(' at ')[1].split(' UTC')[0]} UTC; a request is decided once")
    (payment,) = _payments(team_url)
    assert (payment.id, payment.approved_by) == (posted[0][2], winner)
    assert verification.verify(database.make_engine(team_url)).ok


def _submit_at_once(url: str, maker: str, barrier, results) -> None:
    """One racing clerk: enter the same wire."""
    def submit(engine) -> tuple:
        return "entered", maker, approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20000.00",
                                                  operator=maker, occurred_at=AT, method="bank_wire",
                                                  reference="FT-RACE").id
    _at_once(url, maker, submit, barrier, results)


def test_racing_clerks_entering_one_wire_leave_one_request_and_refuse_the_rest_cleanly(team_url):
    makers = ("a", "alice", "ann", "bob")
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(makers)), context.Queue()
    racers = [context.Process(target=_submit_at_once, args=(team_url, maker, barrier, results)) for maker in makers]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
    entered = [outcome for outcome in outcomes if outcome[0] == "entered"]
    refused = [outcome for outcome in outcomes if outcome[0] == "refused"]
    assert len(entered) == 1 and len(refused) == len(makers) - 1, outcomes
    for _, _maker, message in refused:
        assert message.startswith(f"request {entered[0][2]} ({entered[0][1]}, ") and "reference 'FT-RACE'" in message
    assert list(approvals.requests(database.make_engine(team_url))["request_id"]) == [entered[0][2]]
