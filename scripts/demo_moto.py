#!/usr/bin/env python3
"""Moto in server mode for the demo, with the demo organization seeded and aged.

    demo_moto.py --port PORT --out organization.json

Starts moto's server (ThreadedMotoServer, in this process) on 127.0.0.1:PORT, seeds the demo
organization through its HTTP endpoint with boto3 (scripts/seed_org.py), then ages what
the spec asks to be old: moto stamps every access key with the time it was created and has
no API to say otherwise, so users with "key_age_days" get their user and access keys
back-dated in moto's own state (the process that serves the endpoint). The demo lake then
has keys older than 90 days for the security checks to find, as a real organization does.
Writes the seed's JSON to --out once everything is ready, then serves until killed.
"""
import argparse
import datetime
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_server  # noqa: E402
import seed_org  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def age_access_keys(spec, accounts):
    """Back-dates the users (and their access keys) that the spec gives a key_age_days."""
    aged = 0
    for account in spec["accounts"]:
        for user_spec in account.get("users", []):
            days = user_spec.get("key_age_days")
            if not days:
                continue
            user = iam_backends[accounts[account["name"]]]["aws"].get_user(user_spec["name"])
            then = utcnow() - datetime.timedelta(days=days)
            user.create_date = then
            for key in user.access_keys:
                key.create_date = then
            aged += 1
    return aged


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True, help="where to write the seeded organization (JSON)")
    args = parser.parse_args()
    moto_server.deepen_backlog()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    spec = seed_org.demo_spec()
    seeded = seed_org.seed(f"http://127.0.0.1:{args.port}", spec)
    seeded["aged_users"] = age_access_keys(spec, seeded["accounts"])
    partial = args.out + ".partial"
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(seeded, out, indent=2)
    os.replace(partial, args.out)  # the demo waits for this file: it appears complete
    threading.Event().wait()


if __name__ == "__main__":
    main()
