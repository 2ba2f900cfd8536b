-- CSV export of the AMIs this run's instances use, per account and region.
SELECT *
FROM run_ec2_images
ORDER BY account_id, region, image_id
