"""The hash format: sha256 of the previous hash followed by the row as compact JSON."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, strategies as st

from vosbench import chain

values = st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.text()), max_size=20)


@given(values)
def test_a_row_hash_is_sha256_of_the_previous_hash_and_compact_json(row):
    # The documented format, written independently: verify tools outside vosbench can recompute it.
    expected = hashlib.sha256(
        (chain.GENESIS + json.dumps(row, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")).hexdigest()
    assert chain.row_hash(chain.GENESIS, row) == expected
    assert chain.row_hash(chain.GENESIS, tuple(row)) == expected
