#!/usr/bin/env python3
"""What boto3 sees of EC2 in the given accounts and regions (through an assumed role), as
JSON lines: {"account_id", "region", "instance_id", "state", "image_name", "tags"}.

    ec2_view.py ENDPOINT_URL ACCOUNT[,ACCOUNT...] REGION[,REGION...]
"""
import json
import sys

from member import member_client


def main():
    endpoint, accounts, regions = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    for account in accounts:
        for region in regions:
            ec2 = member_client(endpoint, account, "ec2", region)
            for page in ec2.get_paginator("describe_instances").paginate():
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        images = ec2.describe_images(Filters=[{"Name": "image-id", "Values": [instance["ImageId"]]}])["Images"]
                        print(json.dumps({
                            "account_id": account,
                            "region": region,
                            "instance_id": instance["InstanceId"],
                            "state": instance["State"]["Name"],
                            "image_name": images[0].get("Name") if images else None,
                            "tags": {t["Key"]: t["Value"] for t in instance.get("Tags", [])},
                        }, sort_keys=True))


if __name__ == "__main__":
    main()
