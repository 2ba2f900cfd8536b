#!/usr/bin/env python3
"""What boto3 sees of IAM users in the given accounts (through an assumed role), as JSON
lines: {"account_id", "user_name", "path", "groups", "tags", "mfa_device_count",
"console_access", "access_keys": [[id, status]], "certificates"}.

    iam_view.py ENDPOINT_URL ACCOUNT[,ACCOUNT...]
"""
import json
import sys

from member import member_client


def main():
    endpoint, accounts = sys.argv[1], sys.argv[2].split(",")
    for account in accounts:
        iam = member_client(endpoint, account, "iam")
        for page in iam.get_paginator("list_users").paginate():
            for user in page["Users"]:
                name = user["UserName"]
                try:
                    iam.get_login_profile(UserName=name)
                    console = True
                except iam.exceptions.NoSuchEntityException:
                    console = False
                print(json.dumps({
                    "account_id": account,
                    "user_name": name,
                    "path": user["Path"],
                    "groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]),
                    "tags": {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]},
                    "mfa_device_count": len(iam.list_mfa_devices(UserName=name)["MFADevices"]),
                    "console_access": console,
                    "access_keys": sorted([k["AccessKeyId"], k["Status"]] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]),
                    "certificates": len(iam.list_signing_certificates(UserName=name)["Certificates"]),
                }, sort_keys=True))


if __name__ == "__main__":
    main()
