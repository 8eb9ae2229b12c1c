-- statement_reported_anchor: the last balance the source system reported for one account
-- before a statement starts.
--
-- Returns at most one row: the account's last payment record with occurred_at < :start
-- and a known balance_after: id, occurred_at (naive UTC), balance_after.
-- vosbench takes the charges of the days between it and :start off this balance to get the
-- balance the source system showed at the start.
-- Parameters: :account_id, :start (naive UTC).
SELECT p.id,
       p.occurred_at,
       p.balance_after
  FROM payments p
 WHERE p.account_id = :account_id
   AND p.occurred_at < :start
   AND p.balance_after IS NOT NULL
 ORDER BY p.occurred_at DESC, p.id DESC
 LIMIT 1
