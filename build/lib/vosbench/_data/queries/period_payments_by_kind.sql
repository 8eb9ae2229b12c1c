-- period_payments_by_kind: payments of a period summed from the raw payment records.
--
-- Returns one row per account and kind with payments in the period:
--   account_id, kind, amount (sum, signed: + raises the balance), payment_count.
-- A payment belongs to the period when :start <= occurred_at < :end (naive UTC).
-- Used when the period is cut in a time zone other than the ledger's, where the kept
-- month totals do not apply.
-- Parameters: :start, :end; scope :everyone (1 = all accounts) / :account_ids.
SELECT p.account_id,
       p.kind,
       SUM(p.amount) AS amount,
       COUNT(*) AS payment_count
  FROM payments p
 WHERE p.occurred_at >= :start
   AND p.occurred_at < :end
   AND (:everyone = 1 OR p.account_id IN :account_ids)
 GROUP BY p.account_id, p.kind
