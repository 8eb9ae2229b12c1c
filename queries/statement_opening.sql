-- statement_opening: one account's balance at the start of a statement, read from the kept
-- month totals plus the part of the month before the start.
--
-- Returns one row whose parts make the opening (added up exactly by the caller):
--   kept_closing: the closing of the account's latest month row before :month
--     (0 when it had no activity before :month);
--   paid_high * 4294967296 + paid_low: its payments with :month_start <= occurred_at < :start;
--   charged_high * 4294967296 + charged_low: its charges of the days :month_first_day <= day < :start_day,
-- and opening = kept_closing + paid − charged. Each sum is taken in two parts (whole multiples of
-- 2**32, and the rest) so that no part passes 64 bits however large the amounts: the balance
-- part-way through a month may (500 trillion deposited, then 500 trillion adjusted), where
-- SQLite's SUM fails and its + turns into a float.
-- :month is the ledger-time-zone month holding the start, :month_start its first instant
-- (naive UTC) and :month_first_day its first day; :start_day is the ledger-time-zone day of
-- :start, so the charges are those of the days that ended by :start (a day's charges are
-- deducted at its end). The cost follows the month, not the account's history.
-- Parameters: :account_id, :month, :month_start, :month_first_day, :start, :start_day.
SELECT COALESCE((SELECT m.closing
                   FROM account_months m
                  WHERE m.account_id = :account_id
                    AND m.month < :month
                  ORDER BY m.month DESC
                  LIMIT 1), 0) AS kept_closing,
       paid.high AS paid_high, paid.low AS paid_low, charged.high AS charged_high, charged.low AS charged_low
  FROM (SELECT COALESCE(SUM((p.amount - p.amount % 4294967296) / 4294967296), 0) AS high,
               COALESCE(SUM(p.amount % 4294967296), 0) AS low
          FROM payments p
         WHERE p.account_id = :account_id
           AND p.occurred_at >= :month_start
           AND p.occurred_at < :start) paid,
       (SELECT COALESCE(SUM((c.call_fee - c.call_fee % 4294967296) / 4294967296
                            + (c.agent_fee - c.agent_fee % 4294967296) / 4294967296
                            + (c.other_fee - c.other_fee % 4294967296) / 4294967296), 0) AS high,
               COALESCE(SUM(c.call_fee % 4294967296 + c.agent_fee % 4294967296 + c.other_fee % 4294967296), 0) AS low
          FROM charges c
         WHERE c.account_id = :account_id
           AND c.day >= :month_first_day
           AND c.day < :start_day) charged
