-- Usage: each account's plan, current billing period and balance, for GET /api/v1/usage.
CREATE TABLE usage
(
    account_id          text NOT NULL PRIMARY KEY,
    plan                text NOT NULL,
    monthly_allocation  integer NOT NULL,
    remaining           integer NOT NULL,
    rollover            integer NOT NULL,
    used_this_period    integer NOT NULL,
    overage_credits     integer NOT NULL,
    overage_cost_micros integer NOT NULL,
    overage_enabled     integer NOT NULL,
    overage_rate_micros integer NOT NULL,
    period_start        text NOT NULL,
    period_end          text NOT NULL
) STRICT;

CREATE INDEX jobs_by_account_status ON jobs (account_id, status, created_at, id);
