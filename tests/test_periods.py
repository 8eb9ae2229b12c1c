"""Months and day ends cut in a time zone, as naive UTC instants."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from vosbench.core import periods


def test_a_dubai_month_starts_and_ends_at_local_midnight():
    october = periods.month("2026-10", "Asia/Dubai")
    # Dubai is UTC+4 all year: local midnight of Oct 1 is Sep 30 20:00 UTC.
    assert october.start == datetime(2026, 9, 30, 20)
    assert october.end == datetime(2026, 10, 31, 20)
    assert (october.first_day, october.last_day) == (date(2026, 10, 1), date(2026, 10, 31))
    assert october.label == "2026-10" and october.timezone == "Asia/Dubai"


def test_a_month_across_a_dst_change_has_the_offsets_of_its_ends():
    # Berlin: October starts in summer time (UTC+2) and ends in winter time (UTC+1).
    october = periods.month("2026-10", "Europe/Berlin")
    assert october.start == datetime(2026, 9, 30, 22)
    assert october.end == datetime(2026, 10, 31, 23)


def test_day_end_is_local_midnight_starting_the_next_day():
    assert periods.day_end(date(2026, 10, 5), "Asia/Dubai") == datetime(2026, 10, 5, 20)
    assert periods.day_end(date(2026, 10, 31), "Asia/Dubai") == periods.month("2026-10", "Asia/Dubai").end
    # New York (UTC−4 in October): Oct 5 ends at 04:00 UTC on Oct 6.
    assert periods.day_end(date(2026, 10, 5), "America/New_York") == datetime(2026, 10, 6, 4)


def test_previous_crosses_the_year():
    january = periods.month("2027-01", "UTC")
    assert periods.previous(january) == periods.month("2026-12", "UTC")
    assert periods.previous(january).end == january.start


def test_local_day_and_charge_days():
    # 21:00 UTC on Sep 30 is already Oct 1 in Dubai.
    assert periods.local_day(datetime(2026, 9, 30, 21), "Asia/Dubai") == date(2026, 10, 1)
    october_dubai = periods.month("2026-10", "Asia/Dubai")
    assert periods.charge_days(october_dubai, "Asia/Dubai") == (date(2026, 10, 1), date(2026, 10, 31))
    # October cut in UTC against a Dubai ledger: Dubai day d ends at 20:00 UTC on d, so the
    # days ending in (Oct 1 00:00Z, Nov 1 00:00Z] are Oct 1 .. Oct 31 as well.
    assert periods.charge_days(periods.month("2026-10", "UTC"), "Asia/Dubai") == (
        date(2026, 10, 1), date(2026, 10, 31))
    # Cut in Dubai against a New York ledger: NY day d ends at 04:00 UTC on d+1;
    # (Sep 30 20:00Z, Oct 31 20:00Z] holds the ends of NY Sep 30 .. Oct 30.
    assert periods.charge_days(october_dubai, "America/New_York") == (date(2026, 9, 30), date(2026, 10, 30))


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "2026-1", "26-10", "October", "2026/10", "",
                                   "\uff12\uff10\uff12\uff16-\uff11\uff10", "\u0662\u0660\u0662\u0666-10"])
def test_a_bad_month_names_the_input_and_the_form(label):
    with pytest.raises(periods.PeriodError, match=r"YYYY-MM") as error:
        periods.month(label, "UTC")
    assert repr(label) in str(error.value)


def test_an_unknown_time_zone_names_the_input_and_the_fix():
    with pytest.raises(periods.PeriodError, match=r"'Mars/Olympus' is unknown.*IANA"):
        periods.month("2026-10", "Mars/Olympus")
    with pytest.raises(periods.PeriodError, match="IANA"):
        periods.day_end(date(2026, 10, 5), "not a zone")


def test_a_year_out_of_range_is_refused():
    with pytest.raises(periods.PeriodError, match="between 1900 and 9998"):
        periods.month("9999-12", "UTC")


def test_a_month_needed_beside_the_one_given_is_refused_naming_the_one_given():
    with pytest.raises(periods.PeriodError, match=r"^month '1900-01': this needs the month 1 before it.*give a later month"):
        periods.previous(periods.month("1900-01", "UTC"))
    with pytest.raises(periods.PeriodError, match=r"^month '9998-12': this needs the month 1 after it.*earlier month"):
        periods.shift_label("9998-12", 1)
    assert periods.shift_label("1900-02", -1) == "1900-01" and periods.shift_label("9998-11", 1) == "9998-12"


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules"])
def test_names_that_are_no_place_are_refused_as_time_zones(name):
    with pytest.raises(periods.PeriodError, match=rf"'{name}' is not the zone of a place.*IANA"):
        periods.zone(name)


def test_days_outside_1900_to_9998_are_refused_naming_the_input():
    assert periods.parse_day(" 9998-12-31", "--to") == date(9998, 12, 31)
    assert periods.check_day(date(1900, 1, 1), "--from") == date(1900, 1, 1)
    with pytest.raises(periods.PeriodError, match="--from: 0001-01-01 is out of range; give a day from 1900-01-01"):
        periods.parse_day("0001-01-01", "--from")
    with pytest.raises(periods.PeriodError, match=r"--to: '2026-13-01' is not a day; give it as YYYY-MM-DD"):
        periods.parse_day("2026-13-01", "--to")
