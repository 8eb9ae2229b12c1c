"""The import's look-ups by list find exactly the values listed, whichever way the list is bound.

On SQLite a list of keys or ids goes as one JSON array read by ``json_each``
(:func:`vosbench.ledger.listed_values.listed`), which reads some values back otherwise than
Python holds them: a text ends at its first NUL, an integer past 64 bits becomes a real.
Such a list is bound value by value instead; either way, the rows found must be those
whose value is in the list, on a real SQLite database.
"""

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from vosbench.ledger import listed_values

metadata = sa.MetaData()
held = sa.Table("held", metadata, sa.Column("key", sa.Text, primary_key=True))
numbered = sa.Table("numbered", metadata, sa.Column("id", sa.Integer, primary_key=True))

STORED_KEYS = ("nul", "nul\x00inside", "nul\x00", "\x00", "", "😀", "𝟙", 'q"uote', "back\\slash", "1e3", "é")
STORED_IDS = (1, 2**63 - 1, -(2**63), 0)
keys = st.text(alphabet=st.sampled_from(["n", "u", "l", "\x00", "😀", "é", '"', "\\", "1", "e", "3"]), max_size=4)


@pytest.fixture(scope="module")
def connection():
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(held.insert(), [{"key": key} for key in STORED_KEYS])
        connection.execute(numbered.insert(), [{"id": number} for number in STORED_IDS])
        yield connection


def found(connection, column: sa.Column, values: list) -> set:
    form = listed_values.list_form(values, "sqlite")
    statement = sa.select(column).where(listed_values.listed(column, "values", form))
    return set(connection.scalars(statement, {"values": listed_values.bound_list(values, form)}))


@settings(max_examples=200, deadline=None)
@given(wanted=st.lists(st.one_of(st.sampled_from(STORED_KEYS), keys), min_size=1, max_size=6))
def test_the_keys_found_are_the_stored_keys_listed(connection, wanted):
    assert found(connection, held.c.key, wanted) == set(STORED_KEYS) & set(wanted)


def test_a_key_cut_at_its_nul_is_not_taken_for_the_stored_key_before_it(connection):
    assert listed_values.list_form(["nul\x00other"], "sqlite") == listed_values.EXPANDED_LIST
    assert found(connection, held.c.key, ["nul\x00other"]) == set()  # json_each would read 'nul', which is stored
    assert found(connection, held.c.key, ["nul\x00inside", "é"]) == {"nul\x00inside", "é"}
    assert listed_values.list_form(["nul", "é", "𝟙", 'q"uote'], "sqlite") == listed_values.JSON_LIST  # the usual keys


def test_ids_past_64_bits_are_bound_one_by_one_and_match_nothing(connection):
    assert listed_values.list_form([2**63 - 1, -(2**63)], "sqlite") == listed_values.JSON_LIST
    assert found(connection, numbered.c.id, [2**63 - 1, -(2**63), 5]) == {2**63 - 1, -(2**63)}
    for past in (2**63, -(2**63) - 1):
        assert listed_values.list_form([1, past], "sqlite") == listed_values.EXPANDED_LIST
    assert found(connection, numbered.c.id, [1.0]) == {1}  # not an integer: bound as it is, compared as SQLite does


def test_a_lone_surrogate_is_refused_as_in_a_plain_list_never_paired_into_another_character(connection):
    """'\\ud83d\\ude00' (two lone surrogates) is no text SQLite can hold; as a JSON escape SQLite would read it as
    '😀', which is stored. The driver refuses it in either form of list, as it always did in a plain one."""
    for form in (listed_values.JSON_LIST, listed_values.EXPANDED_LIST):
        statement = sa.select(held.c.key).where(listed_values.listed(held.c.key, "values", form))
        with pytest.raises(UnicodeEncodeError):
            connection.execute(statement, {"values": listed_values.bound_list(["\ud83d\ude00"], form)})


def test_other_databases_always_get_an_expanded_list():
    assert listed_values.list_form(["plain"], "postgresql") == listed_values.list_form([1], "mysql") == listed_values.EXPANDED_LIST
