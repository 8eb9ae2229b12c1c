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

LOADERS = {
    "profile": profiles.load,
    "controls": policy.load,
    "parameters": report.read_parameter_file,
    "GL mapping": mapping.load,
    "retention policy": archive.load_policy,
    "saved view": saved_views.load_view,
}


@pytest.mark.parametrize("kind", LOADERS)
def test_a_yaml_file_that_does_not_parse_is_refused_in_one_line_naming_where(kind, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ncolumns: [1, 2\n", encoding="utf-8")
    with pytest.raises((errors.VosbenchError, ValueError)) as refused:
        LOADERS[kind](str(path) if kind == "saved view" else path)
    message = str(refused.value)
    assert "\n" not in message and "broken.yaml" in message
    assert "not valid YAML" in message and "line 3, column 1: expected ',' or ']', but got '<stream end>'" in message
