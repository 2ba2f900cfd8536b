"""Changes an organization seeded by seed_org.py the way people in its accounts would, with
boto3 against an emulator (moto), for the day-2 run of the `changes` test and the demo.

    change_org.py --endpoint-url URL changes.json

changes.json is a list of operations, each {"op": ..., "account": ACCOUNT_ID, ...}:
  terminate_instance {instance, region}      launch_instance {region, private: bool}
  create_user {user}                         create_access_key {user}
  deactivate_access_key {user, key}          delete_user {user} (its keys, MFA, password, groups first)
  remove_mfa {user}                          move_account {from, to} (OU or root ids)
  public_ip {instance, region} (allocate an Elastic IP and associate it)
Prints one JSON object with what was made (new ids), keyed by operation index.
"""
import argparse
import json
import os
import sys

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_org  # noqa: E402


def client(endpoint_url, account_id, service, region="us-east-1"):
    return seed_org.member_session(endpoint_url, account_id, region).client(service, endpoint_url=endpoint_url)


def delete_user(iam, user):
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    remove_mfa(iam, user)
    try:
        iam.delete_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        pass
    for group in iam.list_groups_for_user(UserName=user)["Groups"]:
        iam.remove_user_from_group(GroupName=group["GroupName"], UserName=user)
    for cert in iam.list_signing_certificates(UserName=user)["Certificates"]:
        iam.delete_signing_certificate(UserName=user, CertificateId=cert["CertificateId"])
    iam.delete_user(UserName=user)


def remove_mfa(iam, user):
    for device in iam.list_mfa_devices(UserName=user)["MFADevices"]:
        iam.deactivate_mfa_device(UserName=user, SerialNumber=device["SerialNumber"])
        iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])


def apply(endpoint_url, op):
    kind, account = op["op"], op.get("account")
    if kind == "move_account":
        org = boto3.client("organizations", endpoint_url=endpoint_url, region_name="us-east-1")
        org.move_account(AccountId=account, SourceParentId=op["from"], DestinationParentId=op["to"])
        return None
    if kind in ("terminate_instance", "launch_instance", "public_ip"):
        ec2 = client(endpoint_url, account, "ec2", op.get("region", "us-east-1"))
        if kind == "terminate_instance":
            ec2.terminate_instances(InstanceIds=[op["instance"]])
            return None
        if kind == "public_ip":
            allocation = ec2.allocate_address(Domain="vpc")
            ec2.associate_address(InstanceId=op["instance"], AllocationId=allocation["AllocationId"])
            return allocation["PublicIp"]
        if op.get("private"):
            # A subnet that maps no public address: the instance starts without one.
            vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="172.31.240.0/24")["Subnet"]["SubnetId"]
            image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                     SubnetId=subnet)["Instances"][0]["InstanceId"]
        return seed_org.launch_instances(endpoint_url, account, [{"region": op.get("region", "us-east-1")}])[0]
    iam = client(endpoint_url, account, "iam")
    user = op["user"]
    if kind == "create_user":
        iam.create_user(UserName=user)
    elif kind == "create_access_key":
        return iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    elif kind == "deactivate_access_key":
        iam.update_access_key(UserName=user, AccessKeyId=op["key"], Status="Inactive")
    elif kind == "delete_user":
        delete_user(iam, user)
    elif kind == "remove_mfa":
        remove_mfa(iam, user)
    else:
        raise SystemExit(f"unknown operation {kind!r}")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("changes", help="JSON list of operations")
    args = parser.parse_args()
    made = {}
    for i, op in enumerate(json.load(open(args.changes, encoding="utf-8"))):
        result = apply(args.endpoint_url, op)
        if result is not None:
            made[str(i)] = result
    json.dump(made, sys.stdout)
    print()


if __name__ == "__main__":
    main()
