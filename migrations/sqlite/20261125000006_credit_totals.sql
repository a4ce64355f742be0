-- Credits moved by every account since the log began, by movement (reserved, captured,
-- released): part of the usage read model, read by GET /metrics.
CREATE TABLE credit_totals
(
    movement text   NOT NULL PRIMARY KEY,
    credits  bigint NOT NULL
);

-- The totals start from the first event: replay the usage read model from the beginning (the
-- projector does so at the next start; reads catch it up first).
DELETE FROM usage;
DELETE FROM projection_checkpoints WHERE name = 'usage';
