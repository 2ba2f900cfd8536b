-- CSV export of this run's iam_users with exactly the older IAM script's columns, in its
-- order. AccessKeyID, ActiveKeyAge and AccessKeyLastUsed describe one key: the oldest
-- active one (empty when no key is active); every key is in the iam_users table.
-- file_name: IAM_USER_TAGS_{org}_combined_{datetime}{shard}_{suffix}.csv
SELECT
  account_id AS "AccountID",
  account_alias AS "AccountAlias",
  user_name AS "UserName",
  tags AS "Tags",
  created_at AS "CreationDateTime",
  age_days AS "CreationAgeInDays",
  path AS "Path",
  groups AS "Groups",
  mfa_enabled AS "MFAEnabled",
  last_activity AS "LastActivity",
  password_age_days AS "PasswordAge",
  password_last_used AS "ConsoleLastSignIn",
  active_key_id AS "AccessKeyID",
  active_key_age_days AS "ActiveKeyAge",
  active_key_last_used_at AS "AccessKeyLastUsed",
  arn AS "ARN",
  console_access AS "ConsoleAccess",
  signing_certificates AS "SigningCerts"
FROM run_iam_users
ORDER BY account_id, user_name
