#!/usr/bin/env python3
"""Downloads each account's IAM credential report with boto3 (through an assumed role) and
prints JSON lines {"account_id", "content_base64"}.

    report_view.py ENDPOINT_URL ACCOUNT[,ACCOUNT...]
"""
import base64
import json
import sys
import time

from member import member_client


def main():
    endpoint, accounts = sys.argv[1], sys.argv[2].split(",")
    for account in accounts:
        iam = member_client(endpoint, account, "iam")
        while iam.generate_credential_report()["State"] != "COMPLETE":
            time.sleep(0.2)
        content = iam.get_credential_report()["Content"]
        print(json.dumps({"account_id": account, "content_base64": base64.b64encode(content).decode()}))


if __name__ == "__main__":
    main()
