-- CSV export of the AMIs this run's instances use, per account and region.
SELECT *
FROM raw_ec2_images
WHERE run_id = (SELECT run_id FROM run_params)
ORDER BY account_id, region, image_id
