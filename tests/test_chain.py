"""The hash format: sha256 of the previous hash followed by the row as compact JSON."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from vosbench.ledger import hashchain

values = st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.text()), max_size=20)


@given(values)
def test_a_row_hash_is_sha256_of_the_previous_hash_and_compact_json(row):
    # The documented format, written independently: verify tools outside vosbench can recompute it.
    expected = hashlib.sha256(
        (hashchain.GENESIS + json.dumps(row, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")).hexdigest()
    assert hashchain.row_hash(hashchain.GENESIS, row) == expected
    assert hashchain.row_hash(hashchain.GENESIS, tuple(row)) == expected
