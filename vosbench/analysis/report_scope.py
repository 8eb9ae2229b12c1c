"""A saved view as the scope of a month's report (``vosbench audit``/``summary --view``, papermill's ``view``).

A report covers one month; a view is a filter. Scoping a report by a view cuts the
view's days to the report's month (a view of October scopes October's report and
refuses September's) and hands the report two things: the WHERE clauses that pick the
view's payment records, for the sections that list or total records, and the account
numbers the view covers, for the sections kept per account — its sub-accounts as the
tree stood at the month's end, not as it stands now. Which sections follow the
view is the report's to say (its introduction and Filter sheet name the view and what
it scoped); the rows of the Filter sheet come from here, so every report describes a
view the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from vosbench.analysis import explore, shared_views
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.analysis.saved_views import SavedView, ViewError
from vosbench.core import periods
from vosbench.ledger import account_history, tables


@dataclass(frozen=True)
class ReportScope:
    """A view cut to one report month: ``filter`` is the view's filter within ``period``'s days."""

    view: SavedView
    filter: PaymentFilter
    period: periods.Period

    @property
    def title(self) -> str:
        """How a report's heading names its scope."""
        return f"view {self.view.name}"

    def payment_conditions(self, connection: sa.Connection) -> list[sa.ColumnElement[bool]]:
        """WHERE clauses on ``payments`` picking the view's records of the month (values bound)."""
        return explore.conditions(self._month_filter(connection), self.period.timezone, connection.dialect.name)

    def account_numbers(self, connection: sa.Connection) -> set[str] | None:
        """The account numbers the view covers (sub-accounts included when it says so, only those held in its
        currencies when it names some); None: every account."""
        if not self.filter.accounts and not self.filter.currencies:
            return None
        numbered = tables.accounts
        where = [numbered.c.id.in_(explore.held_in(self.filter.currencies))] if self.filter.currencies else []
        if self.filter.accounts:
            chosen = explore.account_scope(self._month_filter(connection)).subquery("chosen")
            where.append(numbered.c.id.in_(sa.select(chosen.c.id)))
        return set(connection.scalars(sa.select(numbered.c.account).where(*where)))

    def _month_filter(self, connection: sa.Connection) -> PaymentFilter:
        """The filter with its sub-accounts as the tree stood at the month's end, each one named.

        The explore panel walks the tree as it is now; a report of a month walks the month's
        (:func:`account_history.tree_as_of`), so a closed month's report keeps its figures
        when an account moves later. An account the ledger does not know stays named (and
        matches nothing): naming no account would mean every account.
        """
        if not self.filter.include_sub_accounts:
            return self.filter
        tree = account_history.tree_as_of(connection, self.period.end)
        numbers = {number for root in self.filter.accounts for _, number in tree.members(root) or [(0, root)]}
        return replace(self.filter, accounts=tuple(sorted(numbers)), include_sub_accounts=False)

    def rows(self) -> list[tuple[str, str]]:
        """(item, value) rows of a report's Filter sheet: the view, then what its filter selects."""
        return [("Saved view", self.view.name), ("Description", self.view.description or "(none)"),
                *self.filter.describe()]


def view_month(view: SavedView) -> str | None:
    """The month 'YYYY-MM' a view's period lies in, or None when it has no period or spans months."""
    first, last = view.filter.start, view.filter.end
    if first is None or last is None or (first.year, first.month) != (last.year, last.month):
        return None
    return f"{first.year:04d}-{first.month:02d}"


def for_month(view: SavedView, period: periods.Period) -> ReportScope:
    """``view`` cut to ``period``'s days; a :class:`ViewError` when the two do not meet.

    A report cuts its month in one time zone (the finance summary in the ledger's, where its
    month totals and trend are kept), so a view that cuts days in another zone is refused,
    not read in the report's zone under the view's name.
    """
    if view.filter.timezone and view.filter.timezone != period.timezone:
        raise ViewError(f"view {view.name!r} cuts days in {view.filter.timezone}, but this report cuts {period.label} "
                        f"in {period.timezone}; save the view without a timezone (or with "
                        f"timezone={period.timezone}) to scope this report with it")
    first, last = period.first_day, period.last_day
    start = max(view.filter.start or first, first)
    end = min(view.filter.end or last, last)
    if start > end:
        raise ViewError(f"view {view.name!r} covers {view.filter.start or 'the beginning'} to "
                        f"{view.filter.end or 'the end'}, outside {period.label}; report a month inside the view "
                        f"or save the view without a period")
    return ReportScope(view, replace(view.filter, start=start, end=end, timezone=period.timezone), period)


def resolve(name: str, month: str | None, connection: sa.Connection | None = None,
            folder: str | None = None) -> tuple[SavedView, str]:
    """The view ``name`` (a saved view's name, or a YAML file) and the month to report.

    ``month`` may be None when the view's own period lies in one month; otherwise a
    :class:`ViewError` asks for it. ``connection`` lets views shared in the ledger be found,
    and refuses a view naming an account or operator the ledger does not know, as the panel
    and ``vosbench query`` refuse its filter: a typo or another ledger's account would
    otherwise report an empty month as if nothing had happened.
    """
    view = shared_views.find(name, connection, folder)
    if connection is not None:
        try:
            view.filter.check(connection)
        except FilterError as error:
            raise ViewError(f"view {view.name!r}: {error}; correct the view (`vosbench views show {view.name}`)") from None
    chosen = month or view_month(view)
    if chosen is None:
        raise ViewError(f"view {view.name!r} does not lie in one month; name the month to report "
                        "with --month YYYY-MM (or the month parameter)")
    return view, chosen
