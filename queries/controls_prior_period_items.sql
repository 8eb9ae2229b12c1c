-- controls_prior_period_items: payments a sync of history brought for a closed month, posted in :month.
--
-- Returns one row per such payment: payment_id, occurred_at (the date the source gave it,
-- naive UTC) and closed_month (the month it is dated into, closed when it arrived).
-- Parameters: :month ('YYYY-MM', the month it was posted in).
SELECT i.payment_id,
       i.occurred_at,
       i.closed_month
  FROM prior_period_items i
 WHERE i.posted_month = :month
 ORDER BY i.payment_id
