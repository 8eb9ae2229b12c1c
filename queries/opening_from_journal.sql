-- opening_from_journal: each account's balance at the start of a period, summed from the
-- raw records of its whole history.
--
-- Returns one row per account with any record before the period:
--   account_id, opening = payments with occurred_at < :start
--                         minus charges of the days before :first_day,
--   in two parts, opening = opening_high * 4294967296 + opening_low: whole 2**32s and the rest,
--   each summed within 64 bits however large the amounts (SQLite's SUM past 64 bits fails).
-- Accounts open at zero. This reads the whole history, so it is slower than the kept
-- month totals; vosbench uses it only when the period is cut in a time zone other than
-- the ledger's.
-- Parameters: :start (naive UTC), :first_day (first charge day of the period);
-- scope :everyone (1 = all accounts) / :account_ids.
SELECT history.account_id,
       SUM((history.amount - history.amount % 4294967296) / 4294967296) AS opening_high,
       SUM(history.amount % 4294967296) AS opening_low
  FROM (SELECT p.account_id, p.amount
          FROM payments p
         WHERE p.occurred_at < :start
        UNION ALL
        SELECT c.account_id, -(c.call_fee + c.agent_fee + c.other_fee) AS amount
          FROM charges c
         WHERE c.day < :first_day) history
 WHERE (:everyone = 1 OR history.account_id IN :account_ids)
 GROUP BY history.account_id
