-- CSV export of this run's ec2_instances: the older EC2 script's columns first (in its
-- spirit: who, where, what, state, image, network, owner, tags), then every other column.
SELECT
  account_id AS "AccountId",
  account_name AS "AccountName",
  ou_path AS "OUPath",
  account_owner AS "AccountOwner",
  region AS "Region",
  instance_id AS "InstanceId",
  name_tag AS "InstanceName",
  instance_type AS "InstanceType",
  state AS "State",
  launch_time AS "LaunchTime",
  terminated_at AS "TerminatedAt",
  image_id AS "ImageId",
  image_name AS "ImageName",
  image_description AS "ImageDescription",
  platform_details AS "PlatformDetails",
  vpc_id AS "VpcId",
  subnet_id AS "SubnetId",
  private_ip AS "PrivateIpAddress",
  public_ip AS "PublicIpAddress",
  key_name AS "KeyName",
  owner_tag AS "OwnerTag",
  tags AS "Tags",
  availability_zone, state_reason, state_transition_reason, state_transition_time,
  image_owner_id, platform, architecture, private_dns, public_dns, iam_instance_profile_arn,
  security_group_ids, security_group_names, root_device_type, root_device_name,
  monitoring_state, lifecycle, tenancy, first_seen, last_seen, observed, run_id, snapshot_date
FROM run_ec2_instances
ORDER BY account_id, region, instance_id
