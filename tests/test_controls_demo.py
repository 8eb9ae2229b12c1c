"""The controls against the demo's answer key: every planted anomaly found by its check.

The demo is clean apart from what it plants, so every other finding of the month is a
false positive of its check. The precision/recall table is printed with the test run
(``-rA`` not needed: it is written past pytest's capture).
"""

from __future__ import annotations

import pytest

from vosbench import controls
from vosbench.controls import scoring
from vosbench.ledger import setup
from vosbench.sources import demo

SCALE = demo.DemoScale(customers=1000, months=4)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'ledger.sqlite'}"
    key = demo.build_demo(url, SCALE, progress=False)
    engine = setup.open_ledger(url)
    result = controls.run(engine, SCALE.end_month, controls.load_settings())
    return key, result, engine


def test_every_planted_anomaly_is_found_by_its_check(scored, capsys):
    key, result, _ = scored
    table = scoring.score(result.findings, key, SCALE.end_month)
    with capsys.disabled():
        print(f"\ncontrols vs the demo's answer key ({SCALE.customers} customers, {SCALE.end_month}):")
        print(table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.2f}"))
    assert scoring.missed(result.findings, key, SCALE.end_month) == []
    assert table["planted"].sum() == len(key["anomalies"]) == 8


def test_the_clean_part_of_the_demo_raises_few_serious_findings(scored):
    key, result, _ = scored
    table = scoring.score(result.findings, key, SCALE.end_month)
    serious = [f for f in result.findings if f.severity == "high"
               and not any(scoring.finds(f, a) for a in key["anomalies"])]
    assert serious == []  # the demo's clean records break no hard rule
    assert result.not_run == {}  # the demo records operators, a managed account and commission rates
    assert table.loc[table["planted"] > 0, "precision"].min() > 0


def test_the_findings_of_a_rerun_have_the_same_ids(scored):
    _, result, engine = scored
    again = controls.run(engine, SCALE.end_month, controls.load_settings())
    assert [f.finding_id for f in again.findings] == [f.finding_id for f in result.findings]
    assert len({f.finding_id for f in result.findings}) == len(result.findings)
