-- controls_entry_requests: each approved manual entry's request and decision, for the dating and approval checks.
--
-- An entry at or above its approval threshold is recorded when a supervisor approves it, which can be
-- days after the clerk entered it: the request's time, not the record's, is when a person dated it.
-- The decision's checker is the approval the record's approved_by must stand for.
-- Returns one row per approved request that became a record: payment_id, requested_at (naive UTC), checker.
-- Parameters: none.
SELECT d.payment_id,
       r.requested_at,
       d.checker
  FROM approval_decisions d
  JOIN approval_requests r ON r.id = d.request_id
 WHERE d.payment_id IS NOT NULL
