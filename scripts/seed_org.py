#!/usr/bin/env python3
"""Seeds an AWS Organization into an emulator (moto server) with boto3.

Independent of orglake on purpose: it is "someone else" creating the organization
that orglake then discovers. Usage:

    seed_org.py --endpoint-url URL SPEC.json     # an organization described by a spec
    seed_org.py --endpoint-url URL --demo        # the demo organization (36 accounts)

A spec is JSON: {"ous": {"Name": {"Child": {}}}, "accounts": [{"name": ..., "ou": "Name/Child",
"tags": {...}, "suspended": false}]}. Prints JSON: organization_id, root_id, ous (path -> id),
accounts (name -> id).
"""
import argparse
import json
import sys

import boto3

DEMO_OWNERS = ["alice@example.com", "bob@example.com", "Carol@Example.com ", "dora@platform.example.org", None]


def demo_spec():
    """The demo organization: nested OUs, 36 accounts, owners, one suspended account."""
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
        accounts.append({"name": f"{team}-{i:02d}", "ou": ou, "tags": tags, "suspended": i == 35})
    return {"ous": ous, "accounts": accounts}


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
        if account.get("suspended"):
            org.close_account(AccountId=account_id)
    return {"organization_id": organization["Id"], "root_id": root_id, "ous": ous, "accounts": accounts}


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
