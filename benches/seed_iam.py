#!/usr/bin/env python3
"""The older IAM users script's approach, for the scale benchmark: boto3, 10 accounts in
parallel, per user seven calls one after another (tags, groups, MFA devices, login
profile, access keys, their last use, signing certificates).

    seed_iam.py ENDPOINT_URL OU_ID
"""
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


def scan_account(endpoint, account_id):
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/orglake-reader", RoleSessionName="seed")["Credentials"]
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    rows = 0
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            name = user["UserName"]
            iam.list_user_tags(UserName=name)
            iam.list_groups_for_user(UserName=name)
            iam.list_mfa_devices(UserName=name)
            try:
                iam.get_login_profile(UserName=name)
            except iam.exceptions.NoSuchEntityException:
                pass
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
            iam.list_signing_certificates(UserName=name)
            rows += 1
    return rows


def main():
    endpoint, ou = sys.argv[1], sys.argv[2]
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1")
    accounts = [a["Id"] for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=ou)
                for a in page["Accounts"] if a["Status"] == "ACTIVE"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        print(sum(pool.map(lambda a: scan_account(endpoint, a), accounts)))


if __name__ == "__main__":
    main()
