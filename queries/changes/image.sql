-- from: ec2_images
-- An AMI used by an instance.
SELECT account_id, image_id AS entity_id, CAST(NULL AS VARCHAR) AS parent_id, region,
       name, description, state, public, deprecation_time, tags
FROM {rows}
