-- controls_reversed_originals: the records that a month's reversals point at, wherever they are.
--
-- Returns one row per reversed record: id, account, kind, amount, occurred_at (naive UTC),
-- operator, reference, reverses_id (set when the reversed record is itself a reversal).
-- Parameters: :ids (the reversed records' ids, an expanding list).
SELECT p.id,
       a.account,
       p.kind,
       p.amount,
       p.occurred_at,
       p.operator,
       p.reference,
       p.reverses_id
  FROM payments p
  JOIN current_accounts a ON a.id = p.account_id
 WHERE p.id IN :ids
