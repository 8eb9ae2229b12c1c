"""Changes made the way someone holding the ledger file would: plain sqlite3, guards lifted and put back."""

from __future__ import annotations

import sqlite3

from vosbench.ledger import guards, hashchain


def behind_guards(path, *statements: str, tables: tuple[str, ...] = ()) -> None:
    """Run ``statements`` with the guards of ``tables`` lifted, then put those guards back exactly as they were."""
    with sqlite3.connect(path) as raw:
        raw.create_function(hashchain.LINK_FUNCTION, 2, hashchain.link)
        lifted = [guard for guard in guards.expected_guards("sqlite") if guard.table in tables]
        for guard in lifted:
            raw.execute(f"DROP TRIGGER {guard.name}")
        for statement in statements:
            raw.execute(statement)
        present = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for guard in lifted:
            if guard.table in present:
                raw.execute(guard.sql)
    raw.close()
