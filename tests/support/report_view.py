#!/usr/bin/env python3
"""Downloads each account's IAM credential report with boto3 (through an assumed role) and
prints JSON lines {"account_id", "content_base64"}.

    report_view.py ENDPOINT_URL ACCOUNT[,ACCOUNT...]
"""
import base64
import json
import sys
import time

import boto3


def main():
    endpoint, accounts = sys.argv[1], sys.argv[2].split(",")
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    for account in accounts:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/viewer", RoleSessionName="view")["Credentials"]
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        while iam.generate_credential_report()["State"] != "COMPLETE":
            time.sleep(0.2)
        content = iam.get_credential_report()["Content"]
        print(json.dumps({"account_id": account, "content_base64": base64.b64encode(content).decode()}))


if __name__ == "__main__":
    main()
