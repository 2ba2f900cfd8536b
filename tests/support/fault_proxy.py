#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between the AWS SDK and moto, for tests. Loopback only.

    fault_proxy.py --upstream http://127.0.0.1:5000 --port 0 --rules rules.json

Prints "listening on PORT" once ready. Every request is forwarded to the upstream unless a
rule matches it. Rules (JSON list, re-read on every request so a test can change them):

    {"action": "AssumeRole",          # the API action (Query "Action=" or JSON X-Amz-Target)
     "contains": "111111111111",      # optional: a substring the body, path or Authorization
                                      # header must hold (its credential scope names the region)
     "account": "111111111111",       # optional: only calls made with credentials of this account
                                      # (learned from the AssumeRole calls the proxy forwards)
     "fault": "deny" | "throttle" | "error500" | "delay" | "drop" | "respond",
     "status": 200, "body": "...",    # for "respond": answer this instead of forwarding
     "code": "Throttling",            # optional error code for throttle / deny
     "rate": 1.0,                     # optional: fraction of matching calls affected
     "times": 3,                      # optional: only the first N matching calls are affected
     "delay_ms": 50}                  # for "delay" (then forwarded)

Counts of requests per action are served at GET /__proxy/counts (JSON), how often each rule
(by index) applied at GET /__proxy/hits, and the method, path and headers of every forwarded
request (with its action and, when known, the account of its credentials) at
GET /__proxy/requests, in the order they arrived.

GET /__proxy/credentials is a container credential endpoint (as ECS and Fargate serve at
AWS_CONTAINER_CREDENTIALS_FULL_URI); each fetch is counted as "__credentials".

A rule {"action": "AssumeRole", "fault": "short_session", "seconds": 20} forwards the call
but makes the session expire after that many seconds: the answer's Expiration says so, and
any later request signed with that session's key is answered ExpiredToken, as AWS does.
"""
import argparse
import http.client
import json
import random
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
HITS = {}
KEY_ACCOUNTS = {}  # access key id of an assumed-role session -> account id
KEY_EXPIRY = {}  # access key id of a short session -> time.time() it expires
REQUESTS = []  # method, path and headers of each forwarded request (last 5000)
COUNTS_LOCK = threading.Lock()

XML_ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
<RequestId>fault-proxy</RequestId></ErrorResponse>"""
EC2_ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>
<RequestID>fault-proxy</RequestID></Response>"""


def action_of(headers, path, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    query = urllib.parse.urlparse(path).query
    for source in (body.decode("utf-8", "replace"), query):
        match = re.search(r"(?:^|&)Action=([A-Za-z0-9]+)", source)
        if match:
            return match.group(1)
    return headers.get("X-Amz-Target", "") or "unknown"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path in ("/__proxy/counts", "/__proxy/hits", "/__proxy/requests"):
            with COUNTS_LOCK:
                served = {"/__proxy/counts": COUNTS, "/__proxy/hits": HITS, "/__proxy/requests": REQUESTS}[self.path]
                return self.reply(200, json.dumps(served).encode(), "application/json")
        if self.path == "/__proxy/credentials":
            return self.serve_credentials()
        action = action_of(self.headers, self.path, body)
        account = account_of(self.headers, action, body)
        with COUNTS_LOCK:
            COUNTS[action] = COUNTS.get(action, 0) + 1
        key = signing_key(self.headers)
        with COUNTS_LOCK:
            expired = key in KEY_EXPIRY and time.time() >= KEY_EXPIRY[key]
            if expired:
                COUNTS["__expired_rejected"] = COUNTS.get("__expired_rejected", 0) + 1
        if expired:
            return self.error_reply(400, "ExpiredToken", "The security token included in the request is expired", action)
        short_session = None
        for index, rule in enumerate(load_rules(self.server.rules_path)):
            if rule.get("action") not in (None, action):
                continue
            haystack = body.decode("utf-8", "replace") + self.path + (self.headers.get("Authorization") or "")
            if rule.get("contains") and rule["contains"] not in haystack:
                continue
            if rule.get("account") and rule["account"] != account:
                continue
            if random.random() >= rule.get("rate", 1.0):
                continue
            with COUNTS_LOCK:
                used = HITS.get(index, 0)
                if used >= rule.get("times", float("inf")):
                    continue
                HITS[index] = used + 1
            fault = rule["fault"]
            if fault == "short_session":
                short_session = rule.get("seconds", 20)
                break
            if fault == "delay":
                time.sleep(rule.get("delay_ms", 50) / 1000)
                break
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "respond":
                payload = rule.get("body", "").encode()
                return self.reply(rule.get("status", 200), payload, rule.get("content_type", "text/xml"))
            if fault == "error500":
                return self.error_reply(500, "InternalError", "injected server error", action)
            if fault == "throttle":
                return self.error_reply(400, rule.get("code", "Throttling"), "Rate exceeded", action)
            if fault == "deny":
                return self.error_reply(403, rule.get("code", "AccessDenied"), "injected: not authorized to perform " + action, action)
        with COUNTS_LOCK:
            REQUESTS.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                             "action": action, "account": account})
            del REQUESTS[:-5000]
        rewrite = None
        if short_session is not None:
            expires = time.time() + short_session
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)).encode()
            rewrite = lambda payload: re.sub(rb"<Expiration>[^<]+</Expiration>", b"<Expiration>" + stamp + b"</Expiration>", payload)
        payload = self.forward(body, rewrite)
        if action == "AssumeRole" and account:
            key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", payload or b"")
            if key:
                with COUNTS_LOCK:
                    KEY_ACCOUNTS[key.group(1).decode()] = account
                    if short_session is not None:
                        KEY_EXPIRY[key.group(1).decode()] = expires

    def serve_credentials(self):
        with COUNTS_LOCK:
            COUNTS["__credentials"] = COUNTS.get("__credentials", 0) + 1
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        payload = json.dumps({
            "AccessKeyId": "testing", "SecretAccessKey": "testing", "Token": "container-token",
            "Expiration": expiration,
        }).encode()
        return self.reply(200, payload, "application/json")

    def error_reply(self, status, code, message, action):
        if self.headers.get("X-Amz-Target"):
            payload = json.dumps({"__type": code, "message": message}).encode()
            return self.reply(status, payload, "application/x-amz-json-1.1", {"x-amzn-ErrorType": code})
        template = EC2_ERROR if "/ec2/aws4_request" in (self.headers.get("Authorization") or "") else XML_ERROR
        return self.reply(status, template.format(code=code, message=message).encode(), "text/xml")

    def reply(self, status, payload, content_type, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def forward(self, body, rewrite=None):
        upstream = urllib.parse.urlparse(self.server.upstream)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if rewrite is not None:
            payload = rewrite(payload)
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        conn.close()
        return payload

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def signing_key(headers):
    """The access key id that signed a request (None when unsigned)."""
    key = re.search(r"Credential=([A-Z0-9]+)/", headers.get("Authorization") or "")
    return key.group(1) if key else None


def account_of(headers, action, body):
    """The account a request acts in: the role's account for AssumeRole, else the account of
    the assumed-role session whose access key signed it (None when unknown)."""
    if action == "AssumeRole":
        match = re.search(r"RoleArn=arn%3Aaws%3Aiam%3A%3A(\d{12})", body.decode("utf-8", "replace"))
        return match.group(1) if match else None
    key = signing_key(headers)
    with COUNTS_LOCK:
        return KEY_ACCOUNTS.get(key) if key else None


def load_rules(path):
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return []


class ProxyServer(ThreadingHTTPServer):
    """One thread per connection, with a listen backlog deep enough for a scan's burst of
    connections (socketserver's default of 5 overflows: the kernel drops the handshakes
    beyond it and the client's retransmissions turn into minute-long stalls)."""

    daemon_threads = True
    request_queue_size = 4096


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rules")
    args = parser.parse_args()
    server = ProxyServer(("127.0.0.1", args.port), Handler)
    server.upstream = args.upstream
    server.rules_path = args.rules
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
