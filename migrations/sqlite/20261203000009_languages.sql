-- Several languages in one call. Usage counts the credits of this billing period that paid
-- for languages beyond the first; each job keeps its own, its translations (JSON keyed by
-- language) and the languages the model did not deliver (a JSON array), for history.
ALTER TABLE usage ADD COLUMN language_credits integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN language_credits integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN translations text;
ALTER TABLE jobs ADD COLUMN failed_languages text;
