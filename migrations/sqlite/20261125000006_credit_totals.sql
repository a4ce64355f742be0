-- Credits moved by every account since the log began, by movement (reserved, captured,
-- released): part of the usage read model, read by GET /metrics.
CREATE TABLE credit_totals
(
    movement text   NOT NULL PRIMARY KEY,
    credits  bigint NOT NULL
);
