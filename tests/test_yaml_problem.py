"""Every YAML file a person writes (profile, controls, parameters, GL mapping, retention policy, saved view) that does
not parse is refused in one line naming the file and where the problem is, not PyYAML's several lines and caret."""

from __future__ import annotations

import pytest

from vosbench.analysis import saved_views
from vosbench.core import errors
from vosbench.ledger import archive, policy
from vosbench.outputs import report
from vosbench.outputs.accounting import mapping
from vosbench.sources.bankfiles import profiles
from vosbench.sources.vos3000 import client_exports
from vosbench.sources.vos3000 import mapping as vos3000_mapping

LOADERS = {
    "profile": profiles.load,
    "controls": policy.load,
    "parameters": report.read_parameter_file,
    "GL mapping": mapping.load,
    "retention policy": archive.load_policy,
    "saved view": saved_views.load_view,
    "VOS3000 mapping": vos3000_mapping.load,
    "VOS3000 export headers": client_exports.load_headers,
}


PROBLEMS = {
    "does not parse": ("name: x\ncolumns: [1, 2\n", "line 3, column 1: expected ',' or ']', but got '<stream end>'"),
    # unquoted, YAML reads it as a date; PyYAML's own error for one the calendar lacks names no file nor place
    "a date the calendar lacks": ("name: x\nstart: 2026-02-30\n",
                                  "line 2, column 8: '2026-02-30' is not a date or time there is"),
}


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("kind", LOADERS)
def test_a_yaml_file_that_cannot_be_read_is_refused_in_one_line_naming_where(kind, problem, tmp_path):
    text, expected = PROBLEMS[problem]
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises((errors.VosbenchError, ValueError)) as refused:
        LOADERS[kind](str(path) if kind == "saved view" else path)
    message = str(refused.value)
    assert "\n" not in message and "broken.yaml" in message and "not valid YAML" in message and expected in message


@pytest.mark.parametrize("kind", LOADERS)
def test_a_file_of_bytes_that_are_not_text_is_refused_in_one_line_naming_it(tmp_path, kind):
    """A damaged copy (bytes no UTF-8 text holds) is the same one-line refusal naming the file, not a decoding
    traceback."""
    path = tmp_path / "broken.yaml"
    path.write_bytes(b"name: x\ncolumns: [1]\n\x8d\xff\xfe\n")
    with pytest.raises((errors.VosbenchError, ValueError)) as refused:
        LOADERS[kind](str(path) if kind == "saved view" else path)
    assert not isinstance(refused.value, UnicodeDecodeError)
    message = str(refused.value)
    assert "\n" not in message and "broken.yaml" in message and "not valid YAML" in message and "#x008d" in message


def test_the_panels_memory_written_over_with_bytes_is_passed_over(tmp_path, inline_ledger):
    from vosbench.ui.explore_panel import PaymentExplorer
    from vosbench.ui.panel import memory

    engine = inline_ledger(accounts="account,name,kind,parent\nC1,Acme,customer,\n")
    (tmp_path / f"{memory.name_for(engine)}.yaml").write_bytes(bytes(range(256)) * 2)
    assert memory.recall(tmp_path, engine) is None
    assert PaymentExplorer(engine, memory_dir=tmp_path).current_filter is not None  # opened on the latest month


def test_the_panels_memory_holding_such_a_date_is_passed_over(tmp_path, inline_ledger):
    from vosbench.ui.explore_panel import PaymentExplorer
    from vosbench.ui.panel import memory

    engine = inline_ledger(accounts="account,name,kind,parent\nC1,Acme,customer,\n")
    (tmp_path / f"{memory.name_for(engine)}.yaml").write_text("name: last\nfilter:\n  start: 2026-02-30\n")
    assert memory.recall(tmp_path, engine) is None
    assert PaymentExplorer(engine, memory_dir=tmp_path).current_filter is not None  # opened on the latest month
