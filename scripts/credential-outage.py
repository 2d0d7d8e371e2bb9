#!/usr/bin/env python3
"""A credential outage under a steady push, end to end with real processes.

A container credential endpoint (ECS-style, on loopback) hands out credentials valid for --valid seconds and answers
HTTP 500 from --outage-from to --outage-to seconds after the push starts; `kinesis-pusher push --record-ttl never`
reads --rate lines a second from a pipe into `kinesis-pusher local`. The credentials run out in the middle of the
outage, so the records must wait, not fail, and go once the endpoint answers again.

Checks (each printed; any failure exits 1): the push exits 0 and its report says every record was delivered; the
stream holds each record exactly once (read back with boto3); the endpoint really answered 500 during the outage;
the outage is in the push's log (a refresh failure warning, and the recovery) and in its metrics
(kinesis_pusher_credential_failures_total > 0, kinesis_pusher_credential_refreshes_total after the outage).
"""
import argparse
import datetime
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import boto3
from botocore.config import Config

from compare_peers import Server, STREAM


class CredentialEndpoint:
    """The container credential endpoint; `start` marks time 0 of the outage schedule."""

    def __init__(self, valid, outage_from, outage_to):
        self.valid, self.outage_from, self.outage_to = valid, outage_from, outage_to
        self.start = None
        self.answers = {"ok": 0, "500": 0}
        self.lock = threading.Lock()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                elapsed = time.monotonic() - endpoint.start if endpoint.start else 0
                failing = endpoint.outage_from <= elapsed < endpoint.outage_to
                with endpoint.lock:
                    endpoint.answers["500" if failing else "ok"] += 1
                if failing:
                    body, status = b'{"code":"InternalError","message":"outage"}', 500
                else:
                    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=endpoint.valid)
                    body = json.dumps({
                        "AccessKeyId": "ASIAOUTAGETEST", "SecretAccessKey": "secret", "Token": "token",
                        "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }).encode()
                    status = 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2/credentials"


def read_back(endpoint):
    client = boto3.client(
        "kinesis", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 10}),
    )
    data = []
    for shard in client.list_shards(StreamName=STREAM)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10000)
            data += [record["Data"].decode() for record in page["Records"]]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return data


def metric(text, name):
    found = re.findall(r"^%s(?:\{[^}]*\})? (\S+)$" % name, text, re.M)
    return sum(float(value) for value in found)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.environ.get("KINESIS_PUSHER_BIN", ".build/debug/kinesis-pusher"))
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=40, help="lines written per second")
    parser.add_argument("--valid", type=float, default=20, help="seconds each set of credentials is valid")
    parser.add_argument("--outage-from", type=float, default=3)
    parser.add_argument("--outage-to", type=float, default=35)
    args = parser.parse_args()

    credentials = CredentialEndpoint(args.valid, args.outage_from, args.outage_to)
    server = Server(args.bin)
    work = tempfile.mkdtemp()
    metrics_file = os.path.join(work, "metrics.prom")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update({
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": credentials.url, "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.path.join(work, "none"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"),
    })
    command = [args.bin, "push", "--stream", STREAM, "--endpoint", server.endpoint, "--record-ttl", "never",
               "--report", "json", "--metrics-textfile", metrics_file]
    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))
        failures += 0 if ok else 1

    try:
        credentials.start = time.monotonic()
        push = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
        stderr_lines = []
        threading.Thread(target=lambda: stderr_lines.extend(push.stderr), daemon=True).start()
        for index in range(args.records):
            # On schedule: line i at i / rate seconds after the start.
            delay = credentials.start + index / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            push.stdin.write(f"record-{index}\n".encode())
            push.stdin.flush()
        push.stdin.close()
        wrote = time.monotonic() - credentials.start
        try:
            stdout = push.stdout.read()
            push.wait(timeout=args.outage_to + 120)
        except subprocess.TimeoutExpired:
            push.kill()
            push.wait()
            stdout = b""
        elapsed = time.monotonic() - credentials.start
        time.sleep(0.2)  # the stderr reader takes the last lines
        log = b"".join(stderr_lines).decode(errors="replace")
        print(f"wrote {args.records} lines in {wrote:.1f} s; push ended after {elapsed:.1f} s with exit {push.returncode}; "
              f"credential endpoint answered {credentials.answers['ok']} ok, {credentials.answers['500']} HTTP 500")
        check("the push exits 0", push.returncode == 0, log.strip().splitlines()[-1] if push.returncode and log.strip() else "")
        report = json.loads(stdout) if stdout.strip() else {}
        check("the report says every record was delivered", report.get("delivered") == args.records and report.get("failed") == 0,
              f"delivered {report.get('delivered')}, failed {report.get('failed')}")
        stored = read_back(server.endpoint)
        check("the stream holds each record exactly once", sorted(stored) == sorted(f"record-{i}" for i in range(args.records)),
              f"{len(stored)} stored, {len(set(stored))} distinct")
        check("the endpoint answered HTTP 500 during the outage", credentials.answers["500"] > 0)
        warnings = [line for line in log.splitlines() if "credential refresh failed" in line]
        check("the log shows the failed refreshes", len(warnings) > 0, f"{len(warnings)} warnings")
        check("the log shows the recovery", "credentials fetched again after" in log)
        text = open(metrics_file).read() if os.path.exists(metrics_file) else ""
        failed_fetches = metric(text, "kinesis_pusher_credential_failures_total")
        refreshes = metric(text, "kinesis_pusher_credential_refreshes_total")
        check("kinesis_pusher_credential_failures_total counts the outage", failed_fetches > 0, f"{failed_fetches:.0f}")
        check("kinesis_pusher_credential_refreshes_total counts the fetches", refreshes >= 2, f"{refreshes:.0f}")
        for line in warnings[:3]:
            print("     " + line[:300])
    finally:
        server.stop()
        credentials.server.shutdown()
    print(f"{failures} failed checks")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
