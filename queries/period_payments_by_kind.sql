-- period_payments_by_kind: payments of a period summed from the raw payment records.
--
-- Returns one row per account and kind with payments in the period:
--   account_id, kind, payment_count, and the sum (signed: + raises the balance) in two parts,
--   amount = amount_high * 4294967296 + amount_low: whole 2**32s and the rest, each summed
--   within 64 bits however large the amounts (SQLite's SUM of a total past 64 bits fails).
-- A payment belongs to the period when :start <= occurred_at < :end (naive UTC).
-- Used when the period is cut in a time zone other than the ledger's, where the kept
-- month totals do not apply.
-- Parameters: :start, :end; scope :everyone (1 = all accounts) / :account_ids.
SELECT p.account_id,
       p.kind,
       SUM((p.amount - p.amount % 4294967296) / 4294967296) AS amount_high,
       SUM(p.amount % 4294967296) AS amount_low,
       COUNT(*) AS payment_count
  FROM payments p
 WHERE p.occurred_at >= :start
   AND p.occurred_at < :end
   AND (:everyone = 1 OR p.account_id IN :account_ids)
 GROUP BY p.account_id, p.kind
