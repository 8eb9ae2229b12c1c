-- reported_balances_before: the balances some accounts reported up to an instant.
--
-- Returns one row per balance snapshot with as_of <= :before (naive UTC): account_id,
-- as_of and balance as the source system reported it.
-- Used only for the few accounts whose difference is carried over, to say since when.
-- Parameters: :before; scope :everyone (1 = all accounts) / :account_ids.
SELECT s.account_id,
       s.as_of,
       s.balance
  FROM balance_snapshots s
 WHERE s.as_of <= :before
   AND (:everyone = 1 OR s.account_id IN :account_ids)
