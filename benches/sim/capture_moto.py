#!/usr/bin/env python3
"""Captures an organization from moto, response bodies and all, for the AWS-scale simulator.

    capture_moto.py --endpoint-url URL --regions R1,R2 --out ORG.json

Walks the organization with boto3 as orglake and the older scripts would, and keeps the raw
bytes moto answered (a botocore `after-call` hook), not boto3's parsed values:

- every list call's body becomes an envelope (the body with its item list replaced by
  `{{items}}` and the request id by `{{request_id}}`) and its items, each a verbatim
  fragment of moto's XML or JSON;
- single-object calls (GetLoginProfile, GetAccessKeyLastUsed, ListAccountAliases, an error)
  are kept whole, with their HTTP status.

The simulator serves ORG.json as it is (`orglake-sim --org-file`), which is how the
fidelity test proves that a lake built through the simulator equals one built on moto.
The simulator renders organizations of any size from such a capture (its first instance,
image, security group and user, with their values replaced): benches/sim/captured/moto_org.json,
written by `bash benches/sim/capture.sh`.
"""
import argparse
import base64
import json
import re

import boto3

ROLE = "orglake-reader"


class Recorder:
    """Keeps the status and raw body of the last call a client made."""

    def __init__(self, client):
        self.last = None
        client.meta.events.register("after-call", self.keep)

    def keep(self, http_response, **_):
        self.last = (http_response.status_code, http_response.content.decode())


def client(service, endpoint, region, creds=None):
    keys = {}
    if creds:
        keys = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"])
    c = boto3.client(service, endpoint_url=endpoint, region_name=region, **keys)
    return c, Recorder(c)


def call(pair, method, **params):
    """Calls and returns (status, raw body); AWS errors are kept, not raised."""
    c, recorder = pair
    try:
        getattr(c, method)(**params)
    except c.exceptions.ClientError:
        pass
    return recorder.last


def children(xml, tag):
    """The verbatim top-level children of the first <tag> element, and the body with them
    replaced by {{items}}."""
    empty = re.search(rf"<{tag}\s*/>", xml)
    start = re.search(rf"<{tag}>", xml)
    if empty and (not start or empty.start() < start.start()):
        return [], xml[: empty.start()] + f"<{tag}>{{{{items}}}}</{tag}>" + xml[empty.end():]
    if not start:
        raise SystemExit(f"no <{tag}> in {xml[:300]}")
    pos, depth, items, item_start = start.end(), 0, [], None
    for m in re.finditer(r"<(/?)([A-Za-z0-9_:.-]+)[^>]*?(/?)>", xml[start.end():]):
        closing, name, selfclosing = m.group(1), m.group(2), m.group(3)
        at = start.end() + m.start()
        if closing and depth == 0:
            end = at
            break
        if not closing and depth == 0:
            item_start = at
        if selfclosing:
            if depth == 0:
                items.append(xml[item_start: start.end() + m.end()])
            continue
        depth += -1 if closing else 1
        if closing and depth == 0:
            items.append(xml[item_start: start.end() + m.end()])
    else:
        raise SystemExit(f"unterminated <{tag}>")
    items = [i.strip() for i in items]
    del pos
    return items, xml[: start.end()] + "{{items}}" + xml[end:]


def envelope(body, tag):
    items, env = children(body, tag)
    return re.sub(r"<(RequestId|requestId)>[^<]*</\1>", r"<\1>{{request_id}}</\1>", env), items


def text_of(fragment, tag):
    m = re.search(rf"<{tag}>([^<]*)</{tag}>", fragment)
    return m.group(1) if m else None


def capture(endpoint, regions):
    envelopes = {}
    out = {"envelopes": envelopes, "accounts": []}
    org = client("organizations", endpoint, "us-east-1")
    out["organization"] = json.loads(call(org, "describe_organization")[1])["Organization"]
    root = json.loads(call(org, "list_roots")[1])["Roots"][0]
    out["root"] = root
    out["ous"] = []
    parents = [root["Id"]]
    accounts = []
    while parents:
        parent = parents.pop(0)
        for ou in json.loads(call(org, "list_organizational_units_for_parent", ParentId=parent)[1])["OrganizationalUnits"]:
            out["ous"].append({"raw": ou, "parent": parent})
            parents.append(ou["Id"])
        for account in json.loads(call(org, "list_accounts_for_parent", ParentId=parent)[1])["Accounts"]:
            accounts.append((account, parent))
    sts = client("sts", endpoint, "us-east-1")
    status, body = call(sts, "assume_role", RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="capture")
    envelopes["AssumeRole"] = body
    envelopes["GetCallerIdentity"] = call(sts, "get_caller_identity")[1]
    for account, parent in sorted(accounts, key=lambda a: a[0]["Id"]):
        aid = account["Id"]
        tags = json.loads(call(org, "list_tags_for_resource", ResourceId=aid)[1])["Tags"]
        record = {"raw": account, "parent": parent, "tags": tags, "regions": {}, "users": []}
        out["accounts"].append(record)
        if account.get("Status", account.get("State")) != "ACTIVE":
            continue
        creds = sts[0].assume_role(RoleArn=f"arn:aws:iam::{aid}:role/{ROLE}", RoleSessionName="capture")["Credentials"]
        for region in regions:
            ec2 = client("ec2", endpoint, region, creds)
            if "DescribeRegions" not in envelopes:
                env, items = envelope(call(ec2, "describe_regions", AllRegions=True)[1], "regionInfo")
                envelopes["DescribeRegions"] = env
                out["regions"] = items
            env, reservations = envelope(call(ec2, "describe_instances")[1], "reservationSet")
            envelopes["DescribeInstances"] = env
            split = []
            for reservation in reservations:
                instances, head = children(reservation, "instancesSet")
                split.append({"head": head, "instances": instances})
            image_ids = sorted({text_of(i, "imageId") for r in split for i in r["instances"]})
            env, images = envelope(call(ec2, "describe_images", Filters=[{"Name": "image-id", "Values": image_ids}])[1],
                                   "imagesSet")
            envelopes["DescribeImages"] = env
            env, groups = envelope(call(ec2, "describe_security_groups")[1], "securityGroupInfo")
            envelopes["DescribeSecurityGroups"] = env
            record["regions"][region] = {"reservations": split, "images": images, "security_groups": groups}
        iam = client("iam", endpoint, "us-east-1", creds)
        record["aliases"] = call(iam, "list_account_aliases")
        env, users = envelope(call(iam, "list_users")[1], "Users")
        envelopes["ListUsers"] = env
        env, details = envelope(call(iam, "get_account_authorization_details", Filter=["User"])[1], "UserDetailList")
        envelopes["GetAccountAuthorizationDetails"] = env
        by_name = {text_of(d, "UserName"): d for d in details}
        for user in users:
            name = text_of(user, "UserName")
            u = {"list": user, "details": by_name.get(name)}
            env, keys = envelope(call(iam, "list_access_keys", UserName=name)[1], "AccessKeyMetadata")
            envelopes["ListAccessKeys"] = env
            u["keys"] = [{"list": k, "last_used": call(iam, "get_access_key_last_used", AccessKeyId=text_of(k, "AccessKeyId"))}
                         for k in keys]
            for op, method, tag, key in [("ListMFADevices", "list_mfa_devices", "MFADevices", "mfa"),
                                         ("ListSigningCertificates", "list_signing_certificates", "Certificates", "certs"),
                                         ("ListGroupsForUser", "list_groups_for_user", "Groups", "groups"),
                                         ("ListUserTags", "list_user_tags", "Tags", "tags")]:
                env, items = envelope(call(iam, method, UserName=name)[1], tag)
                envelopes[op] = env
                u[key] = items
            u["login_profile"] = call(iam, "get_login_profile", UserName=name)
            record["users"].append(u)
        iam[0].generate_credential_report()
        status, body = call(iam, "get_credential_report")
        envelopes["GetCredentialReport"] = re.sub(r"<Content>[^<]*</Content>", "<Content>{{content}}</Content>", body)
        envelopes["GetCredentialReport"] = re.sub(r"<GeneratedTime>[^<]*</GeneratedTime>",
                                                  "<GeneratedTime>{{generated_time}}</GeneratedTime>",
                                                  envelopes["GetCredentialReport"])
        envelopes["GetCredentialReport"] = re.sub(r"<RequestId>[^<]*</RequestId>", "<RequestId>{{request_id}}</RequestId>",
                                                  envelopes["GetCredentialReport"])
        record["report"] = {"content": base64.b64decode(text_of(body, "Content")).decode(),
                            "generated_time": text_of(body, "GeneratedTime")}
    envelopes["GenerateCredentialReport"] = call(client("iam", endpoint, "us-east-1"), "generate_credential_report")[1]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--regions", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    org = capture(args.endpoint_url, args.regions.split(","))
    with open(args.out, "w") as f:
        json.dump(org, f, indent=1)


if __name__ == "__main__":
    main()
