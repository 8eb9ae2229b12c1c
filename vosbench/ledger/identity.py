"""Who is acting: operators are registered identities, never free text.

Every entry a person makes (record, reverse, approve, reject, a finding's annotation, a
matching decision) names its operator through :func:`acting_operator`:

- On a server ledger the operator *is* the database login (``current_user``); a claimed
  name that differs from it is refused, so nobody records under someone else's name.
- On SQLite (one person's machine, no logins) the claimed name must be a registered
  operator.

Either way the operator must hold a role that may do the action (a clerk enters, a
supervisor enters and approves, an auditor annotates findings); an unknown name is refused with the list of known
ones. :func:`register` adds an operator: on a server it also creates the login, holding
the database role that matches (:mod:`vosbench.ledger.roles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core.errors import VosbenchError
from vosbench.ledger import backoffice, database, guards, roles, scopes, tables, write_door
from vosbench.ledger.scopes import SCOPED_ROLES

ROLES = ("clerk", "supervisor", "auditor", "reseller", "agent")
"""Roles an operator may hold; resellers and agents name their account (``reseller:R0001``)."""

MAKERS = ("clerk", "supervisor", backoffice.DEFAULT_ROLE)
"""Roles that may enter records (``operator``: a back-office import that named no role)."""

CHECKERS = guards.CHECKER_ROLES
"""Roles that may approve or reject someone else's entry (the database holds a server's logins to them too)."""

ANNOTATORS = guards.ANNOTATOR_ROLES
"""Roles that may annotate a finding (explain, escalate, dismiss it; the database holds a server's logins to them too)."""

MATCHERS = ("clerk", "supervisor", "auditor", backoffice.DEFAULT_ROLE)
"""Roles that may confirm, reject or make a pairing of statement lines with records: everyone
but the scoped logins, who see no statements (the auditor role may write decisions on a server)."""

WHOLE_DAY = (0, 24 * 60)


class IdentityError(VosbenchError, ValueError):
    """The acting operator is unknown, not the login, or lacks the role; nothing was written."""


@dataclass(frozen=True)
class Role:
    """A parsed role: its word and, for resellers and agents, the account it is limited to."""

    word: str
    account: str = ""

    def __str__(self) -> str:
        return f"{self.word}:{self.account}" if self.account else self.word


def parse_role(text: str) -> Role:
    """``clerk``, ``supervisor``, ``auditor``, ``reseller:ACCOUNT`` or ``agent:ACCOUNT``."""
    word, _, account = text.strip().partition(":")
    if word not in ROLES or (word in SCOPED_ROLES) != bool(account.strip()):
        raise IdentityError(f"role {text!r} is not one of clerk, supervisor, auditor, reseller:ACCOUNT, "
                            "agent:ACCOUNT (resellers and agents name their account)")
    return Role(word, account.strip())


@dataclass(frozen=True)
class Registration:
    """An operator registered: its role, and on a server whether its login was made (False: the server had it, and
    it keeps its password; None on SQLite, which has no logins)."""

    role: Role
    new_login: bool | None = None


def register(engine: Engine, login: str, role: str, *, name: str = "", password: str | None = None) -> Registration:
    """Add operator ``login`` with ``role``; on a server also give its login the matching role, creating it with
    ``password`` when the server has none (:func:`vosbench.ledger.roles.create_login`)."""
    parsed = parse_role(role)
    roles.check_login(login)
    with engine.begin() as connection:
        if parsed.account and connection.scalar(sa.select(tables.accounts.c.kind)
                                                .where(tables.accounts.c.account == parsed.account)) is None:
            raise IdentityError(f"account {parsed.account!r} is unknown; a {parsed.word} names its own account")
        known = operators(connection).get(login)
        if known is not None and known != str(parsed):  # refused before a login is made: MariaDB's DDL commits at once
            raise IdentityError(f"operator {login} is already registered as {known}; "
                                "an operator's role is not changed here (register a new login)")
        if connection.dialect.name != "sqlite":
            if not roles.is_owner(connection):  # the database refuses anyone else's operators row too
                raise IdentityError(f"registering operators is the ledger owner's, not {roles.current_login(connection)}'s;"
                                    f" connected as the owner, run `vosbench operators add {login} --role {parsed}`")
            if parsed.word in SCOPED_ROLES and not scopes.in_force(connection):
                raise IdentityError(f"a {parsed.word} login needs the scoped views `vosbench server init` makes; "
                                    "run it on this ledger first, then add the login")
            if not password:
                raise IdentityError(f"operator {login}: a server login needs a password "
                                    "(from the environment variable or the prompt)")
            new_login = roles.create_login(connection, login, password, roles.OPERATOR_ROLES[parsed.word])
        else:
            new_login = None
        if known is not None:  # e.g. imported from the back office's operators.csv: the login is what was missing
            return Registration(parsed, new_login)
        operator = backoffice.NewOperator(login=login, name=name.strip() or login, role=str(parsed),
                                          timezone=database.ledger_timezone(connection),
                                          shift_start=WHOLE_DAY[0], shift_end=WHOLE_DAY[1], working_days="1234567")
        try:
            backoffice.append(engine, "operators", [operator], source="vosbench", file="operators add",
                                    connection=connection)
        except write_door.ImportRejected as error:
            raise IdentityError("; ".join(rejection.reason for rejection in error.rejections)) from None
    return Registration(parsed, new_login)


def operators(connection: sa.Connection) -> dict[str, str]:
    """Registered operators: login → role."""
    return dict(connection.execute(sa.select(tables.operators.c.login, tables.operators.c.role)
                                   .order_by(tables.operators.c.login)).all())


def acting_operator(connection: sa.Connection, claimed: str | None, *, action: str,
                    allowed: tuple[str, ...] | None = None, option: str = "--operator") -> str:
    """The registered operator doing ``action`` (holding one of the ``allowed`` roles, when given),
    claimed with ``option``; IdentityError naming the fix otherwise."""
    claimed = (claimed or "").strip()
    login = roles.current_login(connection)
    if login is not None and claimed and claimed != login:
        raise IdentityError(f"you are connected as {login}; {option} {claimed} differs. On a server ledger the "
                            f"operator is your database login: give {option} {login}, or connect as {claimed}")
    who = login or claimed
    if not who:
        raise IdentityError(f"operator is required: say who {action} ({option} LOGIN, a registered operator)")
    known = operators(connection)
    if who not in known:
        listed = ", ".join(known) or "none yet"
        raise IdentityError(f"operator {who!r} is not registered (known: {listed}); "
                            f"add them with `vosbench operators add {who} --role ROLE`")
    if allowed is not None:
        require_role(connection, who, allowed, action)
    return who


def require_role(connection: sa.Connection, who: str, allowed: tuple[str, ...], action: str) -> None:
    """IdentityError unless registered operator ``who`` holds one of the ``allowed`` roles."""
    role = operators(connection).get(who, "")
    if role.partition(":")[0] not in allowed:
        raise IdentityError(f"operator {who} is {_a(role or 'person with no role')}; only "
                            f"{_either(allowed)} {action}")


def _either(roles: tuple[str, ...]) -> str:
    """'a clerk, a supervisor or an auditor'."""
    named = [_a(role) for role in roles]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"


def _a(word: str) -> str:
    """``word`` with its article: a clerk, an auditor, an agent:A1."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
