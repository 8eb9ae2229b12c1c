"""``vosbench server init``, ``copy`` and ``operators``: a ledger on a PostgreSQL or MariaDB server for a team.

``server init --db URL`` makes an empty server database a ledger: tables, append-only
guards and the roles a team's logins hold (:mod:`vosbench.ledger.roles`); it runs again
safely. ``copy --from URL --to URL`` moves a whole ledger, e.g. one person's SQLite file
onto the team's server, with identical hash chains. ``operators add LOGIN --role ROLE``
registers a person (on a server: creates their login; the password comes from an
environment variable or a prompt, never from the command line, where others could read it).
"""

from __future__ import annotations

import getpass
import os

from vosbench.commands import options
from vosbench.core.config import mask_url
from vosbench.core.errors import VosbenchError

PASSWORD_ENV = "VOSBENCH_OPERATOR_PASSWORD"


class PasswordMissing(VosbenchError, ValueError):
    """A server login needs a password and none could be read."""


def cmd_server(args) -> int:
    from vosbench.ledger import roles, scopes

    with options.open_ledger(args, create=True, timezone=args.timezone) as ledger:
        with ledger.engine.begin() as connection:
            made = roles.create_roles(connection)
            owner = roles.current_login(connection)
            scopes.create_scopes(connection)
        print(f"ledger ready at {ledger.shown_url} (time zone {ledger.timezone}), owned by {owner}")
        print(f"roles: {', '.join(made)} (writer: clerks and supervisors; auditor; reader: resellers and agents)")
        print("resellers and agents see their own subtree only (row-level security)"
              if ledger.engine.dialect.name == "postgresql" else
              "resellers and agents see their own subtree only, through the views of database "
              f"{scopes.views_database(ledger.engine.url.database or '')}, which their URL names")
        print("add the team with `vosbench operators add LOGIN --role ROLE`; everyone sets "
              f"VOSBENCH_DB to their own login's URL of {mask_url(ledger.url)}")
    return options.EXIT_OK


def cmd_copy(args) -> int:
    from vosbench.ledger import copying, handle

    result = copying.copy_ledger(args.source, args.destination)
    with handle.Ledger.open(args.destination) as ledger:
        heads = ledger.fingerprint()
    print(f"copied {sum(result.rows.values()):,} rows from {mask_url(args.source)} to {mask_url(args.destination)}")
    for name, head in sorted(heads.items()):
        print(f"{name}: {head['rows']} rows, chain head {head['head']}")
    return options.EXIT_OK


def _password(variable: str) -> str:
    password = os.environ.get(variable)
    if password:
        return password
    try:
        first = getpass.getpass("password for the new login: ")
        again = getpass.getpass("the same password again: ")
    except (EOFError, OSError):
        first = again = ""
    if not first or first != again:
        raise PasswordMissing(f"no password: set {variable} in the environment, or type the same password "
                              "twice at the prompt")
    return first


def cmd_operators(args) -> int:
    import pandas as pd
    import sqlalchemy as sa

    from vosbench.ledger import identity, scopes, tables
    from vosbench.outputs import views

    with options.open_ledger(args) as ledger:
        if args.action == "add":
            on_server = ledger.engine.dialect.name != "sqlite"
            registered = identity.register(ledger.engine, args.login, args.role, name=args.name or "",
                                           password=_password(args.password_env) if on_server else None)
            role, login = registered.role, ""
            if on_server:
                with ledger.engine.connect() as connection:
                    url = ledger.engine.url.set(username=args.login, password=None,
                                                database=scopes.login_database(connection, str(role)))
                made = ("created on the server" if registered.new_login else
                        "was on the server already and keeps its password (the one given was not used)")
                login = f"; login {args.login} {made}, their VOSBENCH_DB: {url.render_as_string()}"
            print(f"operator {args.login} registered as {role}{login}")
            return options.EXIT_OK
        with ledger.engine.connect() as connection:
            result = connection.execute(sa.select(tables.operators.c.login, tables.operators.c.name,
                                                  tables.operators.c.role).order_by(tables.operators.c.login))
            views.print_frame(pd.DataFrame(result.all(), columns=list(result.keys())), (), args.format)
    return options.EXIT_OK


def register(add) -> None:
    sub = add("server", cmd_server, "make a PostgreSQL/MariaDB database a team's ledger: tables, guards, roles "
                                    "(`server init`, safe to run again)")
    sub.add_argument("action", choices=["init"])
    sub.add_argument("--timezone", default="UTC", help="reporting time zone of a NEW ledger (IANA name)")
    sub = add("copy", cmd_copy, "copy a whole ledger to an empty database (SQLite ↔ server), chains unchanged")
    sub.add_argument("--from", dest="source", required=True, metavar="URL")
    sub.add_argument("--to", dest="destination", required=True, metavar="URL")
    sub = add("operators", cmd_operators, "register an operator (on a server: their login) or list them")
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    adding = actions.add_parser("add", help="register LOGIN with a role", parents=[options.shared_options()])
    adding.add_argument("login")
    adding.add_argument("--role", required=True, help="clerk, supervisor, auditor, reseller:ACCOUNT or agent:ACCOUNT")
    adding.add_argument("--name", help="the person's name (default: the login)")
    adding.add_argument("--password-env", default=PASSWORD_ENV, metavar="VARIABLE",
                        help=f"environment variable holding a server login's password (default {PASSWORD_ENV}; "
                             "else you are asked)")
    listing = actions.add_parser("list", help="registered operators and their roles",
                                 parents=[options.shared_options()])
    options.add_format(listing)
