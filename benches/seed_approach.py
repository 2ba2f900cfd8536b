#!/usr/bin/env python3
"""The older EC2 script's approach, for comparison in the benchmark: boto3, 10 accounts in
parallel, regions one by one, DescribeInstances then DescribeImages per region, one CSV.

    seed_approach.py ENDPOINT_URL OU_ID REGION[,REGION...] OUT.csv
"""
import csv
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


def scan_account(endpoint, account_id, regions):
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/orglake-reader", RoleSessionName="seed")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"])
    rows = []
    for region in regions:
        ec2 = session.client("ec2", endpoint_url=endpoint, region_name=region)
        instances = [i for page in ec2.get_paginator("describe_instances").paginate()
                     for r in page["Reservations"] for i in r["Instances"]]
        image_ids = sorted({i["ImageId"] for i in instances})
        images = {}
        if image_ids:
            for image in ec2.describe_images(Filters=[{"Name": "image-id", "Values": image_ids}])["Images"]:
                images[image["ImageId"]] = image
        for i in instances:
            image = images.get(i["ImageId"], {})
            rows.append([account_id, region, i["InstanceId"], i["State"]["Name"], i.get("VpcId"),
                         image.get("Name"), image.get("Description"),
                         {t["Key"]: t["Value"] for t in i.get("Tags", [])}])
    return rows


def main():
    endpoint, ou, regions, out = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1")
    accounts = [a["Id"] for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=ou)
                for a in page["Accounts"] if a["Status"] == "ACTIVE"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda a: scan_account(endpoint, a, regions), accounts))
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["AccountId", "Region", "InstanceId", "State", "VpcId", "ImageName", "ImageDescription", "Tags"])
        count = 0
        for rows in results:
            writer.writerows(rows)
            count += len(rows)
    print(count)


if __name__ == "__main__":
    main()
