"""``vosbench server init`` and ``vosbench copy``: a ledger on a PostgreSQL or MariaDB server for a team.

``server init --db URL`` makes an empty server database a ledger: tables, append-only
guards and the roles a team's logins hold (:mod:`vosbench.ledger.roles`); it runs again
safely. ``copy --from URL --to URL`` moves a whole ledger, e.g. one person's SQLite file
onto the team's server, with identical hash chains.
"""

from __future__ import annotations

from vosbench.commands import options
from vosbench.core.config import mask_url


def cmd_server(args) -> int:
    from vosbench.ledger import roles

    with options.open_ledger(args, create=True, timezone=args.timezone) as ledger:
        with ledger.engine.begin() as connection:
            made = roles.create_roles(connection)
            owner = roles.current_login(connection)
        print(f"ledger ready at {ledger.shown_url} (time zone {ledger.timezone}), owned by {owner}")
        print(f"roles: {', '.join(made)} (writer: clerks and supervisors; auditor; reader: resellers and agents)")
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


def register(add) -> None:
    sub = add("server", cmd_server, "make a PostgreSQL/MariaDB database a team's ledger: tables, guards, roles "
                                    "(`server init`, safe to run again)")
    sub.add_argument("action", choices=["init"])
    sub.add_argument("--timezone", default="UTC", help="reporting time zone of a NEW ledger (IANA name)")
    sub = add("copy", cmd_copy, "copy a whole ledger to an empty database (SQLite ↔ server), chains unchanged")
    sub.add_argument("--from", dest="source", required=True, metavar="URL")
    sub.add_argument("--to", dest="destination", required=True, metavar="URL")
