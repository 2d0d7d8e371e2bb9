#!/usr/bin/env python3
"""A Kinesis round trip in CBOR shaped like the AWS SDK for Java v2's, against `kinesis-pusher local`, with
answers decoded by PyPI's cbor2 (an independent CBOR implementation).

The requests are what the SDK sends: Content-Type application/x-amz-cbor-1.1, X-Amz-Target, SigV4 over the CBOR
bytes, Jackson's indefinite-length maps and arrays, `Data` as a byte string, timestamps as tag 1 on epoch
milliseconds. Checked: PutRecords, GetShardIterator AT_TIMESTAMP, GetRecords (the bytes back as a byte string, the
arrival time as tag 1 on milliseconds near now), DescribeStreamSummary's creation time, and an error as a CBOR map.

Usage: python3 scripts/cbor-roundtrip.py [--bin .build/debug/kinesis-pusher]
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import cbor2
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def decode(data):
    """cbor2.loads, except that tag 1 on 64-bit integers (the SDK's milliseconds, which cbor2 would read as seconds
    and refuse as out of range; localstack patches cbor2 for the same reason) comes back as CBORTag(1, int). The
    tag's bytes (C1 1B) are renamed to an unassigned tag before decoding; this run's payloads never hold them."""
    return cbor2.loads(data.replace(b"\xc1\x1b", b"\xd9\xff\xfe\x1b"),
                       tag_hook=lambda tag, _immutable: cbor2.CBORTag(1, tag.value) if tag.tag == 0xFFFE else tag)


def indefinite_map(members):
    return b"\xbf" + b"".join(cbor2.dumps(name) + value for name, value in members) + b"\xff"


def indefinite_array(items):
    return b"\x9f" + b"".join(items) + b"\xff"


def timestamp(seconds):
    return cbor2.dumps(cbor2.CBORTag(1, int(seconds * 1000)))


class Client:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.credentials = Credentials("AKIDLOCAL", "local")

    def call(self, operation, body):
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-amz-cbor-1.1",
            "X-Amz-Target": f"Kinesis_20131202.{operation}",
        })
        SigV4Auth(self.credentials, "kinesis", "us-east-1").add_auth(request)
        prepared = urllib.request.Request(self.endpoint + "/", data=body, method="POST", headers=dict(request.headers))
        try:
            with urllib.request.urlopen(prepared, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug/kinesis-pusher")
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([args.bin, "local", "--port", str(port), "--stream", "s:1", "--region", "us-east-1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    passed, failed = 0, 0

    def check(name, condition, detail=""):
        nonlocal passed, failed
        if condition:
            passed += 1
            print(f"ok   {name}", flush=True)
        else:
            failed += 1
            print(f"FAIL {name}: {detail}", flush=True)

    try:
        line = server.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            print(f"FAIL no banner from {args.bin} local: {line!r}")
            return 2
        client = Client(match.group(1))
        before = time.time() - 1

        status, headers, body = client.call("PutRecords", indefinite_map([
            ("Records", indefinite_array([indefinite_map([("Data", cbor2.dumps(bytes([0, 1, 2, 254, 255]))),
                                                          ("PartitionKey", cbor2.dumps("k"))])])),
            ("StreamName", cbor2.dumps("s")),
        ]))
        answer = decode(body) if status == 200 else {}
        check("PutRecords in CBOR: 200, a CBOR answer", status == 200
              and headers.get("Content-Type") == "application/x-amz-cbor-1.1", f"{status} {headers.get('Content-Type')}")
        check("PutRecords answer: FailedRecordCount 0 as an integer, a sequence number",
              answer.get("FailedRecordCount") == 0 and isinstance(answer["Records"][0].get("SequenceNumber"), str), f"{answer}")

        status, _, body = client.call("GetShardIterator", indefinite_map([
            ("StreamName", cbor2.dumps("s")), ("ShardId", cbor2.dumps("shardId-000000000000")),
            ("ShardIteratorType", cbor2.dumps("AT_TIMESTAMP")), ("Timestamp", timestamp(before)),
        ]))
        iterator = decode(body).get("ShardIterator") if status == 200 else None
        check("GetShardIterator AT_TIMESTAMP with a tag-1 millisecond timestamp", isinstance(iterator, str), f"{status}")

        status, _, body = client.call("GetRecords", indefinite_map([("ShardIterator", cbor2.dumps(iterator or ""))]))
        records = decode(body).get("Records", []) if status == 200 else []
        check("GetRecords: one record", len(records) == 1, f"{status} {records}")
        if records:
            record = records[0]
            check("GetRecords: Data is a byte string with the bytes put", record.get("Data") == bytes([0, 1, 2, 254, 255]),
                  f"{record.get('Data')!r}")
            arrival = record.get("ApproximateArrivalTimestamp")
            check("GetRecords: ApproximateArrivalTimestamp is tag 1 on integer milliseconds near now",
                  isinstance(arrival, cbor2.CBORTag) and arrival.tag == 1 and isinstance(arrival.value, int)
                  and abs(arrival.value - time.time() * 1000) < 60_000, f"{arrival!r}")

        status, _, body = client.call("DescribeStreamSummary", indefinite_map([("StreamName", cbor2.dumps("s"))]))
        summary = decode(body).get("StreamDescriptionSummary", {}) if status == 200 else {}
        created = summary.get("StreamCreationTimestamp")
        check("DescribeStreamSummary: StreamCreationTimestamp is tag 1 on milliseconds",
              isinstance(created, cbor2.CBORTag) and created.tag == 1 and abs(created.value - time.time() * 1000) < 600_000,
              f"{created!r}")
        check("DescribeStreamSummary: OpenShardCount an integer", summary.get("OpenShardCount") == 1, f"{summary}")

        status, headers, body = client.call("DescribeStreamSummary", indefinite_map([("StreamName", cbor2.dumps("none"))]))
        error = decode(body) if body else {}
        check("an error: 400, a CBOR map with __type and message, X-Amzn-ErrorType",
              status == 400 and error.get("__type") == "ResourceNotFoundException" and "message" in error
              and headers.get("X-Amzn-ErrorType") == "ResourceNotFoundException", f"{status} {error}")
    finally:
        server.terminate()
        server.wait(10)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
