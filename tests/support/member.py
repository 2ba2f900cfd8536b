"""Shared by the test view scripts: a boto3 client acting inside a member account, through
an assumed role, as a user of that account would."""
import boto3


def member_client(endpoint, account, service, region="us-east-1"):
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/viewer", RoleSessionName="view")["Credentials"]
    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
