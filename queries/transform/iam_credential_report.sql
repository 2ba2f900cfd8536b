-- iam_credential_report for this run: every parsed report line, as extracted.
SELECT * FROM iam_credential_report_extracted
