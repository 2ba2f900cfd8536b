#!/usr/bin/env python3
"""Seeds an AWS Organization into an emulator (moto server) with boto3.

Independent of orglake on purpose: it is "someone else" creating the organization
that orglake then discovers. Usage:

    seed_org.py --endpoint-url URL SPEC.json     # an organization described by a spec
    seed_org.py --endpoint-url URL --demo        # the demo organization (36 accounts)

A spec is JSON: {"ous": {"Name": {"Child": {}}}, "accounts": [{"name": ..., "ou": "Name/Child",
"tags": {...}, "suspended": false, "instances": [{"region": "eu-west-1", "state": "running" |
"stopped" | "terminated", "tags": {...}, "image": "default" | "missing"}]}], "management_instances": [...]}. Instances are
launched in the member account through an assumed role, as a user of that account would.
Accounts may also have "users": [{"name", "path", "groups": [...], "tags": {...}, "console": bool,
"mfa": bool, "keys": N, "inactive_keys": N (the first N keys), "certs": N, "alias": "...",
"key_age_days": N}], created in the account through an assumed role. ("key_age_days" is only
honoured by scripts/demo_moto.py, which back-dates the user and its keys inside moto.)
Prints JSON: organization_id, root_id, ous (path -> id), accounts (name -> id),
instances (account name -> list of instance ids, in spec order), users (account name ->
user name -> access key ids).
"""
import argparse
import json
import sys

import boto3

DEMO_OWNERS = ["alice@example.com", "bob@example.com", "Carol@Example.com ", "dora@platform.example.org", None]


def demo_spec():
    """The demo organization: nested OUs, 36 accounts, owners, one suspended account, and
    instances in three regions and several states in every third account, and IAM users
    (console with and without MFA, access keys; in every other such account the admin's key
    is 120 days old) in every fourth."""
    ous = {
        "Workloads": {"Prod": {"Payments": {}}, "Staging": {}, "Dev": {}},
        "Security": {},
        "Sandbox": {},
        "Infrastructure": {"Network": {}, "Shared": {}},
    }
    leaves = ["Workloads/Prod", "Workloads/Prod/Payments", "Workloads/Staging", "Workloads/Dev",
              "Security", "Sandbox", "Infrastructure/Network", "Infrastructure/Shared", ""]
    accounts = []
    for i in range(36):
        ou = leaves[i % len(leaves)]
        team = ou.split("/")[-1].lower() or "root"
        tags = {"team": team, "cost-center": f"cc-{100 + i % 7}"}
        owner = DEMO_OWNERS[i % len(DEMO_OWNERS)]
        if owner:
            tags["owner"] = owner
        instances = []
        if i % 3 == 0 and i < 33:
            states = ["running", "running", "stopped", "terminated"]
            regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
            for j in range(1 + i % 4):
                instance_tags = {"Name": f"{team}-app-{j}"}
                if j % 2 == 0 and owner:
                    instance_tags["owner"] = owner if j == 0 else owner.upper()
                instances.append({"region": regions[(i + j) % 3], "state": states[(i + j) % 4], "tags": instance_tags})
        users = []
        if i % 4 == 1:
            users = [
                {"name": f"{team}-admin", "path": "/admins/", "groups": ["admins"], "console": True, "mfa": i % 8 == 1,
                 "keys": 1, "tags": {"team": team}, "key_age_days": 120 if i % 8 == 5 else 0},
                {"name": f"{team}-ci", "keys": 2, "inactive_keys": 1, "tags": {"purpose": "ci"}},
                {"name": f"{team}-reader", "console": True},
            ]
        accounts.append({"name": f"{team}-{i:02d}", "ou": ou, "tags": tags, "suspended": i == 35,
                         "instances": instances, "users": users})
    return {"ous": ous, "accounts": accounts}


def member_session(endpoint_url, account_id, region):
    creds = boto3.client("sts", endpoint_url=endpoint_url, region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/seeder", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=region)


def create_security_groups(endpoint_url, account_id, specs):
    """Creates each {"name", "region", "ingress": [rule], "egress": [rule], "tags"} group in the
    region's default VPC; a rule is {"protocol", "from", "to", "cidrs", "ipv6_cidrs", "groups"}
    ("groups" names other groups of the spec). Returns {name: group id}."""
    ids = {}
    for spec in specs:
        region = spec.get("region", "us-east-1")
        ec2 = member_session(endpoint_url, account_id, region).client("ec2", endpoint_url=endpoint_url)
        tags = [{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()]
        kwargs = {"TagSpecifications": [{"ResourceType": "security-group", "Tags": tags}]} if tags else {}
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        ids[spec["name"]] = ec2.create_security_group(GroupName=spec["name"], Description=spec.get("description", spec["name"]),
                                                      VpcId=vpc, **kwargs)["GroupId"]
    for spec in specs:
        region = spec.get("region", "us-east-1")
        ec2 = member_session(endpoint_url, account_id, region).client("ec2", endpoint_url=endpoint_url)

        def permission(rule):
            p = {"IpProtocol": rule.get("protocol", "tcp"),
                 "IpRanges": [{"CidrIp": c} for c in rule.get("cidrs", [])],
                 "Ipv6Ranges": [{"CidrIpv6": c} for c in rule.get("ipv6_cidrs", [])],
                 "UserIdGroupPairs": [{"GroupId": ids[g]} for g in rule.get("groups", [])]}
            if "from" in rule:
                p["FromPort"], p["ToPort"] = rule["from"], rule["to"]
            return p
        if spec.get("ingress"):
            ec2.authorize_security_group_ingress(GroupId=ids[spec["name"]], IpPermissions=[permission(r) for r in spec["ingress"]])
        if spec.get("egress"):
            ec2.authorize_security_group_egress(GroupId=ids[spec["name"]], IpPermissions=[permission(r) for r in spec["egress"]])
    return ids


def launch_instances(endpoint_url, account_id, specs, groups=None):
    ids = []
    for spec in specs:
        region = spec.get("region", "us-east-1")
        ec2 = member_session(endpoint_url, account_id, region).client("ec2", endpoint_url=endpoint_url)
        if spec.get("image") == "missing":
            image_id = "ami-0000deadbeef0000"
        else:
            image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        tags = [{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()]
        kwargs = {"TagSpecifications": [{"ResourceType": "instance", "Tags": tags}]} if tags else {}
        if spec.get("security_groups"):
            kwargs["SecurityGroupIds"] = [(groups or {})[name] for name in spec["security_groups"]]
        instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType=spec.get("type", "t3.micro"), **kwargs)["Instances"][0]
        state = spec.get("state", "running")
        if state == "stopped":
            ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
        elif state == "terminated":
            ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ids.append(instance["InstanceId"])
    return ids


def self_signed_certificate():
    """A throwaway self-signed certificate (PEM) for signing-certificate fixtures."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "orglake-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def create_users(endpoint_url, account_id, specs):
    """IAM users as a person in the account would create them (see the module doc)."""
    iam = member_session(endpoint_url, account_id, "us-east-1").client("iam", endpoint_url=endpoint_url)
    made = {}
    for spec in specs:
        name = spec["name"]
        kwargs = {"Path": spec["path"]} if spec.get("path") else {}
        if spec.get("tags"):
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in spec["tags"].items()]
        iam.create_user(UserName=name, **kwargs)
        for group in spec.get("groups", []):
            try:
                iam.create_group(GroupName=group)
            except iam.exceptions.EntityAlreadyExistsException:
                pass
            iam.add_user_to_group(GroupName=group, UserName=name)
        if spec.get("console"):
            iam.create_login_profile(UserName=name, Password="Passw0rd!-not-real")
        if spec.get("mfa"):
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-mfa")["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
        keys = []
        for k in range(spec.get("keys", 0)):
            key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
            if k < spec.get("inactive_keys", 0):
                iam.update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
            keys.append(key)
        for _ in range(spec.get("certs", 0)):
            iam.upload_signing_certificate(UserName=name, CertificateBody=self_signed_certificate())
        made[name] = keys
    if specs and any(s.get("alias") for s in specs):
        iam.create_account_alias(AccountAlias=next(s["alias"] for s in specs if s.get("alias")))
    return made


def create_ous(org, parent_id, tree, prefix, out):
    for name, children in tree.items():
        path = f"{prefix}/{name}" if prefix else name
        ou = org.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"]
        out[path] = ou["Id"]
        create_ous(org, ou["Id"], children, path, out)


def seed(endpoint_url, spec, region="us-east-1"):
    org = boto3.client("organizations", endpoint_url=endpoint_url, region_name=region)
    organization = org.create_organization(FeatureSet="ALL")["Organization"]
    root_id = org.list_roots()["Roots"][0]["Id"]
    ous = {}
    create_ous(org, root_id, spec.get("ous", {}), "", ous)
    accounts = {}
    instances = {}
    users = {}
    security_groups = {}
    management = organization["MasterAccountId"]
    if spec.get("management_instances"):
        instances["management"] = launch_instances(endpoint_url, management, spec["management_instances"])
    for account in spec.get("accounts", []):
        name = account["name"]
        email = account.get("email", f"{name}@example.com")
        status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
        account_id = status["AccountId"]
        accounts[name] = account_id
        ou = account.get("ou", "")
        if ou:
            org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ous[ou])
        tags = account.get("tags", {})
        if tags:
            org.tag_resource(ResourceId=account_id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        if account.get("users"):
            users[name] = create_users(endpoint_url, account_id, account["users"])
        groups = create_security_groups(endpoint_url, account_id, account.get("security_groups", []))
        if groups:
            security_groups[name] = groups
        if account.get("instances"):
            instances[name] = launch_instances(endpoint_url, account_id, account["instances"], groups)
        if account.get("suspended"):
            org.close_account(AccountId=account_id)
    return {"organization_id": organization["Id"], "management_account_id": management, "root_id": root_id,
            "ous": ous, "accounts": accounts, "instances": instances, "users": users,
            "security_groups": security_groups}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--demo", action="store_true", help="seed the demo organization")
    parser.add_argument("spec", nargs="?", help="JSON spec file")
    args = parser.parse_args()
    if args.demo == bool(args.spec):
        parser.error("give either --demo or a spec file")
    spec = demo_spec() if args.demo else json.load(open(args.spec, encoding="utf-8"))
    json.dump(seed(args.endpoint_url, spec), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
