-- iam_users for this run: every user extracted, as extracted.
SELECT * FROM iam_users_extracted
