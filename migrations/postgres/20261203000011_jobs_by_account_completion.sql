-- An account's completed jobs by completion time: what usage's counts for the period (credits
-- of validate, answers from the cache) and the dashboard's credits per day read, without
-- scanning every job the account ever had.
CREATE INDEX jobs_by_account_completion ON jobs (account_id, status, completed_at);
