#!/usr/bin/env python3
"""Scan benchmark (EC2 against the old script; credential reports timed too): orglake against the older script's approach (boto3, 10 accounts in
parallel, regions in sequence), both against the same moto server behind the same
fault proxy adding a fixed latency to every call. Prints a Markdown table.

    ec2_scan.py ORGLAKE_BINARY [--latency-ms 50] [--accounts 10,50,100] [--regions 4]
                [--instances-per-account 5]

Each org size gets a fresh moto. Peak memory is the maximum resident set size of the
orglake process (from wait4). The lower bound is what the latency and the concurrency
limits allow for orglake's critical path, in calls x latency: discovery (DescribeOrganization,
DescribeOrganizationalUnit, ListParents, ListAccountsForParent and ListOrganizationalUnitsForParent for the OU and
its root, then ListTagsForResource 4 at a time: 6 + ceil(accounts / 4)), then
ceil(accounts / max_concurrency) rounds of one account's chain (AssumeRole,
GetCallerIdentity, DescribeRegions, then per region in parallel DescribeInstances +
DescribeImages: 5 calls).
"""
import argparse
import json
import math
import os
import pathlib
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = pathlib.Path(os.environ.get("ORGLAKE_VENV", ROOT / ".venv"))
PYTHON = str(VENV / "bin" / "python")
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "ap-northeast-1", "ca-central-1", "sa-east-1"]
MAX_CONCURRENCY = 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def seed(endpoint, accounts, regions, per_account):
    import boto3
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Bench")["OrganizationalUnit"]["Id"]
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    for n in range(accounts):
        account = org.create_account(AccountName=f"bench-{n}", Email=f"bench-{n}@example.com")["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
        region = regions[n % len(regions)]
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ec2.run_instances(ImageId=image, MinCount=per_account, MaxCount=per_account, InstanceType="t3.micro")
    return ou


def timed(command, env):
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed:\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("orglake")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--accounts", default="10,50,100")
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--instances-per-account", type=int, default=5)
    args = parser.parse_args()
    regions = REGIONS[: args.regions]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORGLAKE_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true")
    os.environ.update(env)
    latency = args.latency_ms / 1000
    print(f"latency {args.latency_ms} ms per call, {len(regions)} regions, {args.instances_per_account} instances per account\n")
    print("| accounts x regions | instances | orglake wall | orglake peak RSS | instances/s | lower bound | boto3 seed approach wall | speed-up | credential reports (all accounts) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for accounts in [int(a) for a in args.accounts.split(",")]:
        moto_port, proxy_port = free_port(), free_port()
        moto = subprocess.Popen([PYTHON, str(ROOT / "scripts/moto_server.py"), "-H", "127.0.0.1", "-p", str(moto_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rules = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump([], rules)
        rules.close()
        proxy = subprocess.Popen([PYTHON, str(ROOT / "tests/support/fault_proxy.py"), "--upstream", f"http://127.0.0.1:{moto_port}",
                                  "--port", str(proxy_port), "--rules", rules.name], stdout=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{moto_port}/moto-api/data.json")
            wait_for(f"http://127.0.0.1:{proxy_port}/__proxy/counts")
            ou = seed(f"http://127.0.0.1:{moto_port}", accounts, regions, args.instances_per_account)
            endpoint = f"http://127.0.0.1:{proxy_port}"
            # Warm moto's lazily created per-account, per-region backends, so that neither side pays for them.
            with tempfile.TemporaryDirectory() as lake:
                timed([args.orglake, "run", "--ou-id", ou, "--regions", ",".join(regions), "--endpoint-url",
                       f"http://127.0.0.1:{moto_port}", "--warehouse", lake], env)
            with open(rules.name, "w") as f:
                json.dump([{"fault": "delay", "delay_ms": args.latency_ms}], f)
            with tempfile.TemporaryDirectory() as lake:
                wall, rss, _ = timed([args.orglake, "run", "--ou-id", ou, "--regions", ",".join(regions),
                                      "--endpoint-url", endpoint, "--warehouse", lake], env)
                span_sql = ("SELECT CAST(max(finished_at) - min(started_at) AS VARCHAR) AS span, max(message) AS polls "
                            "FROM account_status WHERE stage = 'credential_report'")
                _, _, span_out = timed([args.orglake, "query", "--format", "json", "--warehouse", lake, span_sql], env)
                reports = json.loads(span_out.strip().splitlines()[0])
                # DataFusion prints intervals as "0 days 0 hours 0 mins 5.675851 secs".
                parts = re.findall(r"([\d.]+) (days|hours|mins|secs)", reports["span"])
                scale = {"days": 86400, "hours": 3600, "mins": 60, "secs": 1}
                reports["span"] = f"{sum(float(v) * scale[u] for v, u in parts):.2f} s"
                seed_wall, _, seed_out = timed([PYTHON, str(ROOT / "benches/seed_approach.py"), endpoint, ou,
                                                ",".join(regions), os.path.join(lake, "seed.csv")], env)
            instances = accounts * args.instances_per_account
            assert int(seed_out.strip()) == instances, seed_out
            bound = (6 + math.ceil(accounts / 4) + math.ceil(accounts / MAX_CONCURRENCY) * 5) * latency
            print(f"| {accounts} x {len(regions)} | {instances} | {wall:.2f} s | {rss:.0f} MiB | {instances / wall:.0f} | "
                  f"{bound:.2f} s | {seed_wall:.2f} s | {seed_wall / wall:.1f}x | {reports['span']} |", flush=True)
        finally:
            proxy.kill()
            moto.kill()
            os.unlink(rules.name)


if __name__ == "__main__":
    main()
