-- Usage: each account's plan, current billing period and balance, for GET /api/v1/usage.
CREATE TABLE usage
(
    account_id          text NOT NULL PRIMARY KEY,
    plan                text NOT NULL,
    monthly_allocation  bigint NOT NULL,
    remaining           bigint NOT NULL,
    rollover            bigint NOT NULL,
    used_this_period    bigint NOT NULL,
    overage_credits     bigint NOT NULL,
    overage_cost_micros bigint NOT NULL,
    overage_enabled     boolean NOT NULL,
    overage_rate_micros bigint NOT NULL,
    period_start        text NOT NULL,
    period_end          text NOT NULL
);

CREATE INDEX jobs_by_account_status ON jobs (account_id, status, created_at, id);
