-- chain_reported_accounts: the accounts whose balance chain can break in a period.
--
-- Only a record with a known balance_after can break the chain (balance_continuity), so
-- these are the accounts with at least one such record dated in the period; the chain of
-- any other account is not walked.
-- Returns one row per such account: account_id.
-- Parameters: :start, :end (naive UTC); scope :everyone (1 = all accounts) / :account_ids.
SELECT DISTINCT p.account_id
  FROM payments p
 WHERE p.occurred_at >= :start
   AND p.occurred_at < :end
   AND p.balance_after IS NOT NULL
   AND (:everyone = 1 OR p.account_id IN :account_ids)
