#!/usr/bin/env python3
"""Checks that KinesisLocal (`kinesis-pusher local`) behaves like AWS Kinesis as boto3 sees it.

Usage:
    python3 scripts/boto3-conformance.py --endpoint http://127.0.0.1:4567
    python3 scripts/boto3-conformance.py --start [--bin .build/debug/kinesis-pusher]
    python3 scripts/boto3-conformance.py --moto     (the same checks against moto_server, to compare)

With --start the script runs `<bin> local --port <free port> --no-shard-limits` itself, waits for the
"KinesisLocal listening on http://..." banner, runs the checks against it and stops it at the end (always).

Every check prints one line, "ok   <check>" or "FAIL <check>: <detail>"; a failing check that involved a
request also prints the last request and response it saw. Then a table of passes and failures by operation (a
check counts for the last request it saw). The last line is "N passed, M failed"; the exit
status is 1 if any check failed (2 if the server could not be started).

The checks run in this order: create (PROVISIONED 4 shards, ON_DEMAND), describe, list, StreamARN addressing,
MD5 and explicit-hash-key routing, puts of awkward records, a byte-exact read-back of every shard, errors,
update_shard_count 4 -> 8; then the control plane (conformance_control_plane.py): split_shard and merge_shards,
update_shard_count's lineage, update_stream_mode, describe_limits, retention, enhanced monitoring, encryption, record
size, tags, resource policies, stream consumers, subscribe_to_shard, SequenceNumberForOrdering, regions, StreamARN everywhere; delete.
Last come out-of-range inputs that must be refused without stopping the
server; with --start a crash there is named (Swift's fatal error and source line) and a fresh server is started
for the next probe. Against a shared --endpoint server, note that such a crash stops that server.

Needs only boto3 (and botocore). Uses fake credentials (AKIDLOCAL / local), region us-east-1 and no retries,
so every error the server answers is seen as it is.
"""

import argparse
import base64
import hashlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError, ParamValidationError
except ImportError:  # pragma: no cover - environment problem, not a check
    print("boto3-conformance.py needs boto3: pip install boto3", file=sys.stderr)
    sys.exit(2)

from conformance_control_plane import ControlPlaneChecks  # noqa: E402 - after the boto3 check above

MAX_HASH_KEY = 2**128 - 1  # 340282366920938463463374607431768211455
ONE_MIB = 1024 * 1024
ROUTING_VECTORS_4 = [("a", 0), ("pk-1", 3), ("partitionKey", 2), ("ü-ключ-🙂", 2)]
UNICODE_KEY = "ü-ключ-🙂"


# --------------------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        # operation -> [passed, failed]. A check counts for the operation its name starts with (boto3's name,
        # "split_shard: ..."), else for the operation of the last request it saw.
        self.by_operation = {}
        self.current_operation = lambda: None
        self.operation_names = {}  # boto3 method name -> API name

    def _count(self, name, index):
        first = re.split(r"[\s:(]", name, maxsplit=1)[0]
        operation = self.operation_names.get(first) or self.current_operation() or "(no request)"
        self.by_operation.setdefault(operation, [0, 0])[index] += 1

    def ok(self, name):
        self.passed += 1
        self._count(name, 0)
        print(f"ok   {name}", flush=True)

    def fail(self, name, detail="", exchange=None):
        self.failed += 1
        self._count(name, 1)
        line = f"FAIL {name}"
        if detail:
            line += f": {detail}"
        print(line, flush=True)
        if exchange:
            for text in exchange.splitlines():
                print(f"       {text}", flush=True)
        self.failures.append(name)

    def check(self, name, condition, detail="", exchange=None):
        if condition:
            self.ok(name)
        else:
            self.fail(name, detail, exchange)
        return bool(condition)

    def equal(self, name, actual, expected, exchange=None):
        return self.check(name, actual == expected, f"expected {expected!r}, got {actual!r}", exchange)

    def print_by_operation(self, target):
        print(f"# by operation against {target} (a check counts for the operation it names first, else the last request):",
              flush=True)
        for operation in sorted(self.by_operation):
            passed, failed = self.by_operation[operation]
            print(f"#   {operation:<34} {passed:>4} passed {failed:>4} failed", flush=True)


class Recorder:
    """Keeps the last request and response a client exchanged, for FAIL details."""

    LIMIT = 600

    def __init__(self):
        self.operation = None
        self.request = None
        self.status = None
        self.response = None

    def attach(self, client):
        client.meta.events.register("before-send.kinesis", self._before_send)
        client.meta.events.register("after-call.kinesis", self._after_call)

    def _before_send(self, request, **_):
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode("latin-1")
        self.operation = target.split(".")[-1] or "?"
        body = request.body
        if hasattr(body, "read"):
            body = b"<stream>"
        self.request = body if isinstance(body, (bytes, bytearray)) else (body or "").encode()
        self.status = None
        self.response = None

    def _after_call(self, http_response, **_):
        self.status = http_response.status_code
        # An event stream (subscribe_to_shard) is read by its caller as it comes: reading it here would take it.
        if http_response.headers.get("Content-Type", "").startswith("application/vnd.amazon.eventstream"):
            self.response = b"<event stream>"
        else:
            self.response = http_response.content

    @classmethod
    def _shorten(cls, raw):
        if raw is None:
            return "<none>"
        text = bytes(raw).decode("utf-8", "replace")
        # Long base64 blobs make the line useless; keep their length instead.
        text = re.sub(r'"([A-Za-z0-9+/=]{80,})"', lambda m: f'"<{len(m.group(1))} base64 chars>"', text)
        return text if len(text) <= cls.LIMIT else text[: cls.LIMIT] + f"... ({len(text)} chars)"

    def describe(self):
        if self.operation is None:
            return None
        return (
            f"request:  {self.operation} {self._shorten(self.request)}\n"
            f"response: HTTP {self.status if self.status is not None else '<none>'} {self._shorten(self.response)}"
        )


def error_code(error):
    return error.response.get("Error", {}).get("Code")


def short(data, limit=24):
    if data is None:
        return "None"
    if len(data) <= limit:
        return repr(data)
    return f"<{len(data)} bytes, starts {bytes(data[:12]).hex()}, md5 {hashlib.md5(data).hexdigest()[:12]}>"


# --------------------------------------------------------------------------------------------------------
# The conformance run
# --------------------------------------------------------------------------------------------------------


class Conformance(ControlPlaneChecks):
    def __init__(self, endpoint, report, server=None):
        self.report = report
        self.server = server  # a LocalServer when --start: lets the run name a crash and start a fresh server
        self.recorder = Recorder()
        report.current_operation = lambda: self.recorder.operation
        self.connect(endpoint)
        suffix = uuid.uuid4().hex[:8]
        self.suffix = suffix
        self.stream = f"conformance-{suffix}"
        self.on_demand = f"conformance-od-{suffix}"
        self.created = []
        # stream -> shard id -> [(sequence number, partition key, data)] in the order the puts were accepted.
        self.expected = {}
        self.rng = random.Random(20131202)

    def connect(self, endpoint):
        self.endpoint = endpoint
        session = boto3.session.Session(
            aws_access_key_id="AKIDLOCAL",
            aws_secret_access_key="local",
            region_name="us-east-1",
        )
        common = dict(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            proxies={},
        )
        self.kinesis = session.client("kinesis", endpoint_url=endpoint, config=Config(**common))
        self.unvalidated = session.client(
            "kinesis", endpoint_url=endpoint, config=Config(parameter_validation=False, **common)
        )
        self.recorder.attach(self.kinesis)
        self.recorder.attach(self.unvalidated)
        self.report.operation_names = dict(self.kinesis.meta.method_to_api_mapping)

    # --- helpers -----------------------------------------------------------------------------------------

    def exchange(self):
        return self.recorder.describe()

    def section(self, name, body):
        """Runs one group of checks; an unexpected exception fails the group but not the run."""
        try:
            body()
        except Exception as error:  # noqa: BLE001 - report anything, keep going
            detail = f"{type(error).__name__}: {error}"
            tb = traceback.extract_tb(error.__traceback__)
            if tb:
                frame = tb[-1]
                detail += f" (at line {frame.lineno}, {frame.name})"
            self.report.fail(f"{name}: unexpected error", detail, self.exchange())

    def expect_error(self, name, codes, call, *args, **kwargs):
        """Calls `call`; passes if it raises a ClientError whose code is in `codes`."""
        codes = (codes,) if isinstance(codes, str) else tuple(codes)
        try:
            call(*args, **kwargs)
        except ClientError as error:
            code = error_code(error)
            return self.report.check(
                name, code in codes, f"expected {' or '.join(codes)}, got {code}", self.exchange()
            )
        except ParamValidationError as error:
            self.report.fail(name, f"botocore refused the call client-side: {error}")
            return False
        except botocore.exceptions.BotoCoreError as error:
            self.report.fail(name, f"expected {' or '.join(codes)}, got no answer ({type(error).__name__}: {error})",
                             self.exchange())
            return False
        self.report.fail(name, f"expected {' or '.join(codes)}, but the call succeeded", self.exchange())
        return False

    def wait_active(self, stream, timeout=60):
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            summary = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
            status = summary["StreamStatus"]
            if status == "ACTIVE":
                return summary
            time.sleep(0.2)
        raise TimeoutError(f"stream {stream} still {status} after {timeout}s")

    def list_all_shards(self, stream, shard_filter=None, max_results=None):
        """ListShards, paging the AWS way: follow-ups carry only NextToken (and MaxResults)."""
        args = {"StreamName": stream}
        if shard_filter:
            args["ShardFilter"] = shard_filter
        if max_results:
            args["MaxResults"] = max_results
        shards = []
        pages = 0
        while True:
            page = self.kinesis.list_shards(**args)
            pages += 1
            shards.extend(page.get("Shards", []))
            token = page.get("NextToken")
            if not token:
                return shards, pages
            if pages > 10_000:
                raise RuntimeError("ListShards never stopped returning NextToken")
            args = {"NextToken": token}
            if max_results:
                args["MaxResults"] = max_results

    @staticmethod
    def by_hash(shards):
        return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))

    @staticmethod
    def hash_of(partition_key, explicit_hash_key=None):
        if explicit_hash_key is not None:
            return int(explicit_hash_key)
        return int(hashlib.md5(partition_key.encode("utf-8")).hexdigest(), 16)

    @staticmethod
    def owner(shards, hash_key):
        for shard in shards:
            r = shard["HashKeyRange"]
            if int(r["StartingHashKey"]) <= hash_key <= int(r["EndingHashKey"]):
                return shard["ShardId"]
        return None

    def remember(self, stream, shard_id, sequence, key, data):
        self.expected.setdefault(stream, {}).setdefault(shard_id, []).append((sequence, key, bytes(data)))

    def put_one(self, stream, key, data, explicit_hash_key=None, timeout=60):
        """PutRecord, retrying only throttling (a server started with per-shard limits may throttle)."""
        args = {"StreamName": stream, "PartitionKey": key, "Data": data}
        if explicit_hash_key is not None:
            args["ExplicitHashKey"] = explicit_hash_key
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self.kinesis.put_record(**args)
            except ClientError as error:
                if error_code(error) == "ProvisionedThroughputExceededException" and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                raise
            self.remember(stream, answer["ShardId"], answer["SequenceNumber"], key, data)
            return answer

    def put_batch(self, stream, entries, timeout=60):
        """PutRecords; entries are dicts (PartitionKey, Data, [ExplicitHashKey]). Throttled entries are retried.

        Returns one answer entry per input entry (its final, successful result), in input order."""
        results = [None] * len(entries)
        pending = list(range(len(entries)))
        deadline = time.monotonic() + timeout
        while pending:
            try:
                answer = self.kinesis.put_records(StreamName=stream, Records=[entries[i] for i in pending])
            except ClientError as error:
                if error_code(error) == "ProvisionedThroughputExceededException" and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                raise
            records = answer["Records"]
            if len(records) != len(pending):
                raise AssertionError(f"PutRecords answered {len(records)} entries for {len(pending)} records")
            failed = sum(1 for r in records if "ErrorCode" in r)
            if answer.get("FailedRecordCount", 0) != failed:
                raise AssertionError(f"FailedRecordCount {answer.get('FailedRecordCount')} but {failed} entries failed")
            retry = []
            refused = []
            for index, record in zip(pending, records):
                if "ErrorCode" in record:
                    if record["ErrorCode"] != "ProvisionedThroughputExceededException" or time.monotonic() > deadline:
                        refused.append(f"record {index}: {record['ErrorCode']} {record.get('ErrorMessage')}")
                    else:
                        retry.append(index)
                    continue
                entry = entries[index]
                # Remember every stored record, even when another one failed, so the read-back stays exact.
                self.remember(stream, record["ShardId"], record["SequenceNumber"], entry["PartitionKey"], entry["Data"])
                results[index] = record
            if refused:
                raise AssertionError(f"PutRecords refused {len(refused)} record(s), first {refused[0]}")
            pending = retry
            if pending:
                time.sleep(0.5)
        return results

    def read_shard(self, stream, shard_id, limit=None, max_calls=100_000):
        """TRIM_HORIZON + GetRecords until the shard is closed and drained (no NextShardIterator) or an open
        shard is caught up (MillisBehindLatest == 0 and no records). Returns (records, last answer)."""
        iterator = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = []
        last = None
        for _ in range(max_calls):
            args = {"ShardIterator": iterator}
            if limit:
                args["Limit"] = limit
            last = self.kinesis.get_records(**args)
            page = last.get("Records", [])
            records.extend(page)
            iterator = last.get("NextShardIterator")
            if not iterator:
                return records, last
            if not page and last.get("MillisBehindLatest") == 0:
                return records, last
        raise RuntimeError(f"GetRecords on {shard_id} did not finish in {max_calls} calls")

    def compare_shard(self, label, stream, shard_id, records):
        """Byte-exact comparison of what a shard returned against what puts reported for it."""
        expected = self.expected.get(stream, {}).get(shard_id, [])
        actual = [(r["SequenceNumber"], r["PartitionKey"], bytes(r["Data"])) for r in records]
        if actual == expected:
            self.report.ok(f"{label}: {shard_id} returns its {len(expected)} records byte-exact, in put order")
            return True
        detail = f"{len(expected)} records put there, {len(actual)} read back"
        for index, (want, got) in enumerate(zip(expected, actual)):
            if want != got:
                detail += (
                    f"; first difference at #{index}: put seq={want[0]} key={want[1]!r} data={short(want[2])}, "
                    f"read seq={got[0]} key={got[1]!r} data={short(got[2])}"
                )
                break
        else:
            longer = expected if len(expected) > len(actual) else actual
            if len(longer) > min(len(expected), len(actual)):
                extra = longer[min(len(expected), len(actual))]
                which = "missing" if longer is expected else "unexpected"
                detail += f"; first {which} record: seq={extra[0]} key={extra[1]!r} data={short(extra[2])}"
        self.report.fail(f"{label}: {shard_id} returns its records byte-exact, in put order", detail)
        return False

    def check_even_split(self, label, shards, count):
        ordered = self.by_hash(shards)
        ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in ordered]
        want = [(i * (2**128 // count), (i + 1) * (2**128 // count) - 1) for i in range(count)]
        want[-1] = (want[-1][0], MAX_HASH_KEY)
        self.report.check(
            f"{label}: {count} hash key ranges split 0..2^128-1 evenly",
            ranges == want,
            f"got {ranges}",
        )

    # --- the checks ----------------------------------------------------------------------------------------

    def run(self):
        self.section("create streams", self.check_create)
        if not self.created:
            self.report.fail("no stream could be created; the remaining checks need one")
            return
        self.section("describe_stream_summary", self.check_summary)
        self.section("list_streams", self.check_list_streams)
        self.section("list_shards", self.check_list_shards)
        self.section("StreamARN", self.check_stream_arn)
        self.section("routing", self.check_routing)
        self.section("put_record / put_records", self.check_puts)
        self.section("read back", lambda: self.check_read_back("read back"))
        self.section("on-demand stream", self.check_on_demand_records)
        self.section("errors", self.check_errors)
        self.section("update_shard_count", self.check_reshard)
        self.section("split_shard / merge_shards", self.check_split_merge)
        self.section("update_shard_count lineage", self.check_uniform_lineage)
        self.section("update_stream_mode", self.check_stream_mode)
        self.section("describe_limits", self.check_limits)
        self.section("retention period", self.check_retention)
        self.section("enhanced monitoring", self.check_monitoring)
        self.section("stream encryption", self.check_encryption)
        self.section("record size", self.check_record_size)
        self.section("tags", self.check_tags)
        self.section("resource policies", self.check_policies)
        self.section("stream consumers", self.check_consumers)
        self.section("subscribe_to_shard", self.check_subscribe)
        self.section("SequenceNumberForOrdering", self.check_ordering)
        self.section("regions", self.check_regions)
        self.section("StreamARN everywhere", self.check_arn_everywhere)
        self.section("delete_stream", self.check_delete)
        self.section("malformed input", self.check_malformed)

    def check_create(self):
        r = self.report
        try:
            self.kinesis.create_stream(StreamName=self.stream, ShardCount=4)
            self.created.append(self.stream)
            r.ok(f"create_stream {self.stream} (PROVISIONED, 4 shards)")
        except ClientError as error:
            r.fail("create_stream (PROVISIONED, 4 shards)", f"{error_code(error)}: {error}", self.exchange())
        try:
            self.kinesis.create_stream(StreamName=self.on_demand, StreamModeDetails={"StreamMode": "ON_DEMAND"})
            self.created.append(self.on_demand)
            r.ok(f"create_stream {self.on_demand} (ON_DEMAND)")
        except ClientError as error:
            r.fail("create_stream (ON_DEMAND)", f"{error_code(error)}: {error}", self.exchange())
        self.expect_error(
            "create_stream with an existing name → ResourceInUseException",
            "ResourceInUseException",
            self.kinesis.create_stream,
            StreamName=self.stream,
            ShardCount=4,
        )
        for stream in list(self.created):
            try:
                self.wait_active(stream)
                r.ok(f"{stream} becomes ACTIVE")
            except Exception as error:  # noqa: BLE001
                r.fail(f"{stream} becomes ACTIVE", str(error), self.exchange())

    def check_summary(self):
        r = self.report
        if self.stream in self.created:
            s = self.kinesis.describe_stream_summary(StreamName=self.stream)["StreamDescriptionSummary"]
            r.equal("summary (provisioned): StreamName", s.get("StreamName"), self.stream)
            r.equal("summary (provisioned): StreamStatus", s.get("StreamStatus"), "ACTIVE")
            r.equal("summary (provisioned): OpenShardCount", s.get("OpenShardCount"), 4)
            r.equal("summary (provisioned): MaxRecordSizeInKiB", s.get("MaxRecordSizeInKiB"), 1024)
            r.equal(
                "summary (provisioned): StreamModeDetails",
                s.get("StreamModeDetails", {}).get("StreamMode"),
                "PROVISIONED",
            )
            r.check(
                "summary (provisioned): StreamARN names the stream",
                str(s.get("StreamARN", "")).startswith("arn:aws:kinesis:us-east-1:")
                and str(s.get("StreamARN", "")).endswith(f":stream/{self.stream}"),
                f"got {s.get('StreamARN')!r}",
            )
            r.equal("summary (provisioned): RetentionPeriodHours", s.get("RetentionPeriodHours"), 24)
            d = self.kinesis.describe_stream(StreamName=self.stream)["StreamDescription"]
            r.check(
                "describe_stream (provisioned): ACTIVE, 4 shards, HasMoreShards false",
                d.get("StreamStatus") == "ACTIVE" and len(d.get("Shards", [])) == 4 and d.get("HasMoreShards") is False,
                f"status {d.get('StreamStatus')}, {len(d.get('Shards', []))} shards, HasMoreShards {d.get('HasMoreShards')}",
            )
            first = self.kinesis.describe_stream(StreamName=self.stream, Limit=1)["StreamDescription"]
            rest = self.kinesis.describe_stream(
                StreamName=self.stream, ExclusiveStartShardId=first["Shards"][0]["ShardId"]
            )["StreamDescription"]
            r.check(
                "describe_stream Limit=1 + ExclusiveStartShardId pages through the shards",
                len(first["Shards"]) == 1 and first.get("HasMoreShards") is True
                and [x["ShardId"] for x in first["Shards"] + rest["Shards"]] == [x["ShardId"] for x in d["Shards"]],
                f"first {[x['ShardId'] for x in first['Shards']]} (more {first.get('HasMoreShards')}), "
                f"rest {[x['ShardId'] for x in rest['Shards']]}",
            )
        if self.on_demand in self.created:
            s = self.kinesis.describe_stream_summary(StreamName=self.on_demand)["StreamDescriptionSummary"]
            r.equal(
                "summary (on-demand): StreamModeDetails ON_DEMAND",
                s.get("StreamModeDetails", {}).get("StreamMode"),
                "ON_DEMAND",
            )
            r.equal("summary (on-demand): OpenShardCount", s.get("OpenShardCount"), 4)
            r.equal("summary (on-demand): MaxRecordSizeInKiB", s.get("MaxRecordSizeInKiB"), 1024)
            shards, _ = self.list_all_shards(self.on_demand)
            r.equal("list_shards (on-demand): 4 shards", len(shards), 4)

    def check_stream_arn(self):
        r = self.report
        arn = self.kinesis.describe_stream_summary(StreamName=self.stream)["StreamDescriptionSummary"]["StreamARN"]
        s = self.kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]
        r.equal("describe_stream_summary by StreamARN", s.get("StreamName"), self.stream, self.exchange())
        shards = self.kinesis.list_shards(StreamARN=arn).get("Shards", [])
        r.equal("list_shards by StreamARN: 4 shards", len(shards), 4, self.exchange())
        answer = self.kinesis.put_record(StreamARN=arn, PartitionKey="arn-key", Data=b"by arn")
        self.remember(self.stream, answer["ShardId"], answer["SequenceNumber"], "arn-key", b"by arn")
        want = self.owner(shards, self.hash_of("arn-key"))
        r.equal("put_record by StreamARN lands on its shard", answer["ShardId"], want, self.exchange())
        results = self.kinesis.put_records(StreamARN=arn, Records=[{"PartitionKey": "arn-key", "Data": b"by arn 2"}])
        record = results["Records"][0]
        if "ShardId" in record:
            self.remember(self.stream, record["ShardId"], record["SequenceNumber"], "arn-key", b"by arn 2")
        r.equal("put_records by StreamARN lands on its shard", record.get("ShardId"), want, self.exchange())
        iterator = self.kinesis.get_shard_iterator(StreamARN=arn, ShardId=want, ShardIteratorType="TRIM_HORIZON")
        r.check("get_shard_iterator by StreamARN", iterator.get("ShardIterator"), f"{iterator}", self.exchange())
        self.expect_error("describe_stream_summary of an unknown StreamARN → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.describe_stream_summary,
                          StreamARN=arn + "-missing")

    def check_list_streams(self):
        r = self.report
        answer = self.kinesis.list_streams()
        names = answer.get("StreamNames", [])
        for stream in self.created:
            r.check(f"list_streams names {stream}", stream in names, f"StreamNames {names}")
        summaries = {s.get("StreamName"): s for s in answer.get("StreamSummaries", [])}
        if self.on_demand in self.created:
            r.equal(
                "list_streams StreamSummaries: on-demand stream's mode",
                summaries.get(self.on_demand, {}).get("StreamModeDetails", {}).get("StreamMode"),
                "ON_DEMAND",
            )
        r.check("list_streams HasMoreStreams is false for a full listing", answer.get("HasMoreStreams") is False,
                f"got {answer.get('HasMoreStreams')!r}")
        if len(names) >= 2:
            page = self.kinesis.list_streams(Limit=1)
            r.check(
                "list_streams Limit=1: one name and HasMoreStreams",
                len(page.get("StreamNames", [])) == 1 and page.get("HasMoreStreams") is True,
                f"got {page.get('StreamNames')} HasMoreStreams={page.get('HasMoreStreams')}",
                self.exchange(),
            )
            rest = self.kinesis.list_streams(ExclusiveStartStreamName=page["StreamNames"][0])
            r.check(
                "list_streams ExclusiveStartStreamName continues after the name",
                page["StreamNames"][0] not in rest.get("StreamNames", [])
                and sorted(page["StreamNames"] + rest.get("StreamNames", [])) == sorted(names),
                f"first {page['StreamNames']}, rest {rest.get('StreamNames')}, all {names}",
            )

    def check_list_shards(self):
        r = self.report
        full = self.kinesis.list_shards(StreamName=self.stream)
        shards = full.get("Shards", [])
        r.equal("list_shards: 4 shards", len(shards), 4)
        r.check("list_shards: no NextToken when everything fits", "NextToken" not in full, f"got {full.get('NextToken')!r}")
        self.check_even_split("list_shards", shards, 4)
        r.check(
            "list_shards: open shards have a StartingSequenceNumber and no EndingSequenceNumber",
            all(
                "StartingSequenceNumber" in s.get("SequenceNumberRange", {})
                and "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})
                for s in shards
            ),
            f"got {[s.get('SequenceNumberRange') for s in shards]}",
        )

        paged, pages = self.list_all_shards(self.stream, max_results=1)
        r.equal("list_shards MaxResults=1 + NextToken-only follow-ups: 4 pages", pages, 4)
        r.equal(
            "list_shards paged: same shards as one listing",
            [s["ShardId"] for s in paged],
            [s["ShardId"] for s in shards],
        )

        first = self.kinesis.list_shards(StreamName=self.stream, MaxResults=1)
        token = first.get("NextToken")
        if r.check("list_shards MaxResults=1 answers a NextToken", token, f"got {first}", self.exchange()):
            self.expect_error(
                "list_shards with StreamName and NextToken → InvalidArgumentException",
                "InvalidArgumentException",
                self.kinesis.list_shards,
                StreamName=self.stream,
                NextToken=token,
                MaxResults=1,
            )
            self.expect_error(
                "list_shards with ShardFilter and NextToken → InvalidArgumentException",
                "InvalidArgumentException",
                self.kinesis.list_shards,
                NextToken=token,
                ShardFilter={"Type": "AT_LATEST"},
            )
        self.expect_error(
            "list_shards with a garbled NextToken → InvalidArgumentException",
            ("InvalidArgumentException", "ExpiredNextTokenException"),
            self.kinesis.list_shards,
            NextToken="not-a-token",
        )

        latest, _ = self.list_all_shards(self.stream, shard_filter={"Type": "AT_LATEST"})
        r.equal(
            "list_shards ShardFilter AT_LATEST: the 4 open shards",
            sorted(s["ShardId"] for s in latest),
            sorted(s["ShardId"] for s in shards),
        )
        paged_latest, pages = self.list_all_shards(self.stream, shard_filter={"Type": "AT_LATEST"}, max_results=1)
        r.check(
            "list_shards ShardFilter AT_LATEST, MaxResults=1: the filter survives NextToken paging",
            [s["ShardId"] for s in paged_latest] == [s["ShardId"] for s in latest] and pages == 4,
            f"{pages} pages: {[s['ShardId'] for s in paged_latest]}",
        )
        self.expect_error(
            "list_shards of an unknown stream → ResourceNotFoundException",
            "ResourceNotFoundException",
            self.kinesis.list_shards,
            StreamName=f"{self.stream}-missing",
        )

    def check_routing(self):
        r = self.report
        shards = self.by_hash(self.kinesis.list_shards(StreamName=self.stream)["Shards"])
        ids = [s["ShardId"] for s in shards]
        for key, index in ROUTING_VECTORS_4:
            answer = self.put_one(self.stream, key, f"routing {key}".encode())
            r.equal(f"routing: put_record {key!r} → shard {index} ({ids[index]})", answer["ShardId"], ids[index],
                    self.exchange())
        results = self.put_batch(
            self.stream, [{"PartitionKey": key, "Data": f"batch routing {key}".encode()} for key, _ in ROUTING_VECTORS_4]
        )
        r.equal(
            "routing: put_records puts the vectors on the same shards",
            [x["ShardId"] for x in results],
            [ids[index] for _, index in ROUTING_VECTORS_4],
        )
        answer = self.put_one(self.stream, "any-key", b"ehk max", explicit_hash_key=str(MAX_HASH_KEY))
        r.equal("routing: ExplicitHashKey 2^128-1 → last shard", answer["ShardId"], ids[-1], self.exchange())
        answer = self.put_one(self.stream, "pk-1", b"ehk 0", explicit_hash_key="0")
        r.equal("routing: ExplicitHashKey 0 → first shard (overrides the key's MD5)", answer["ShardId"], ids[0],
                self.exchange())
        boundary = str(2**128 // 4)
        answer = self.put_one(self.stream, "a", b"ehk boundary", explicit_hash_key=boundary)
        r.equal("routing: ExplicitHashKey 2^126 → second shard (range start)", answer["ShardId"], ids[1], self.exchange())
        answer = self.put_one(self.stream, "a", b"ehk boundary - 1", explicit_hash_key=str(2**128 // 4 - 1))
        r.equal("routing: ExplicitHashKey 2^126-1 → first shard (range end)", answer["ShardId"], ids[0], self.exchange())

    def check_puts(self):
        r = self.report
        shards = self.by_hash(self.kinesis.list_shards(StreamName=self.stream)["Shards"])

        def placed(label, key, answer, ehk=None):
            want = self.owner(shards, self.hash_of(key, ehk))
            return r.equal(f"{label}: on the shard owning its hash key", answer["ShardId"], want)

        answer = self.put_one(self.stream, "empty", b"")
        placed("put_record empty payload", "empty", answer)
        answer = self.put_one(self.stream, "all-bytes", bytes(range(256)))
        placed("put_record all 256 byte values", "all-bytes", answer)
        answer = self.put_one(self.stream, UNICODE_KEY, "unicode data ✓".encode())
        placed("put_record unicode partition key", UNICODE_KEY, answer)
        big = self.rng.randbytes(1_000_000)
        answer = self.put_one(self.stream, "big", big)
        placed("put_record 1,000,000-byte record", "big", answer)
        r.check("put_record answers a numeric SequenceNumber", str(answer.get("SequenceNumber", "")).isdigit(),
                f"got {answer.get('SequenceNumber')!r}")

        single = self.put_batch(self.stream, [{"PartitionKey": "single", "Data": b"only one"}])
        placed("put_records single record", "single", single[0])

        batch = [
            {"PartitionKey": "empty-batch", "Data": b""},
            {"PartitionKey": "bytes-batch", "Data": bytes(range(256))},
            {"PartitionKey": "bytes-reversed", "Data": bytes(reversed(range(256)))},
            {"PartitionKey": UNICODE_KEY, "Data": "ü-ключ-🙂 data".encode()},
            {"PartitionKey": "ehk-zero", "Data": b"ehk 0", "ExplicitHashKey": "0"},
            {"PartitionKey": "ehk-max", "Data": b"ehk max", "ExplicitHashKey": str(MAX_HASH_KEY)},
            {"PartitionKey": "k" * 256, "Data": b"256-character partition key"},
            {"PartitionKey": "🙂" * 128, "Data": b"128 astral characters (256 UTF-16 units, 512 UTF-8 bytes)"},
        ]
        for i in range(120):
            key = f"key-{self.rng.randrange(40)}-{'é' * (i % 3)}"
            data = self.rng.randbytes(self.rng.randrange(0, 300))
            batch.append({"PartitionKey": key, "Data": data})
        results = self.put_batch(self.stream, batch)
        wrong = [
            (e["PartitionKey"][:20], res["ShardId"])
            for e, res in zip(batch, results)
            if res["ShardId"] != self.owner(shards, self.hash_of(e["PartitionKey"], e.get("ExplicitHashKey")))
        ]
        r.check(f"put_records batch of {len(batch)}: every record on the shard owning its hash key", not wrong,
                f"misplaced: {wrong[:5]}")
        r.equal("put_records: ExplicitHashKey 0 → first shard", results[4]["ShardId"], shards[0]["ShardId"])
        r.equal("put_records: ExplicitHashKey 2^128-1 → last shard", results[5]["ShardId"], shards[-1]["ShardId"])
        seqs = {}
        for res in results:
            seqs.setdefault(res["ShardId"], []).append(int(res["SequenceNumber"]))
        r.check(
            "put_records: sequence numbers grow within each shard in request order",
            all(a < b for values in seqs.values() for a, b in zip(values, values[1:])),
            f"{ {k: v[:4] for k, v in seqs.items()} }",
        )

        mixed = [{"PartitionKey": "big-batch", "Data": big}, {"PartitionKey": "after-big", "Data": b"small"}]
        results = self.put_batch(self.stream, mixed)
        placed("put_records with a 1,000,000-byte record", "big-batch", results[0])

        exact = self.rng.randbytes(ONE_MIB - 1)
        try:
            answer = self.put_one(self.stream, "k", exact)
            placed("put_record of exactly 1 MiB (1,048,575 data + 1 key byte)", "k", answer)
        except ClientError as error:
            r.fail("put_record of exactly 1 MiB (1,048,575 data + 1 key byte) is accepted", error_code(error),
                   self.exchange())

        heavy = [{"PartitionKey": f"heavy-{i}", "Data": self.rng.randbytes(1_000_000)} for i in range(10)]
        try:
            results = self.put_batch(self.stream, heavy)
            r.check("put_records of 10 × 1,000,000 bytes (under the 10 MiB request limit) is accepted",
                    all(results), f"{results}")
        except ClientError as error:
            r.fail("put_records of 10 × 1,000,000 bytes (under the 10 MiB request limit) is accepted",
                   error_code(error), self.exchange())

        full = [{"PartitionKey": f"full-{i}", "Data": f"record {i}".encode()} for i in range(500)]
        results = self.put_batch(self.stream, full)
        r.check("put_records of 500 records (the maximum) is accepted", len(results) == 500 and all(results),
                f"{len(results)} answers")

    def check_read_back(self, label, stream=None):
        r = self.report
        stream = stream or self.stream
        shards, _ = self.list_all_shards(stream)
        known = {s["ShardId"] for s in shards}
        stray = set(self.expected.get(stream, {})) - known
        r.check(f"{label}: every shard puts reported is listed by list_shards", not stray, f"unknown shards {stray}")
        total = 0
        for shard in self.by_hash(shards):
            records, _ = self.read_shard(stream, shard["ShardId"])
            total += len(records)
            self.compare_shard(label, stream, shard["ShardId"], records)
            seqs = [int(x["SequenceNumber"]) for x in records]
            if not all(a < b for a, b in zip(seqs, seqs[1:])):
                r.fail(f"{label}: {shard['ShardId']} sequence numbers increase", f"{seqs[:10]}")
            arrivals = [x.get("ApproximateArrivalTimestamp") for x in records]
            now = time.time()
            bad = [
                a for a in arrivals
                if not hasattr(a, "timestamp") or abs(a.timestamp() - now) > 600
            ]
            if bad or any(a.timestamp() > b.timestamp() for a, b in zip(arrivals, arrivals[1:]) if not bad):
                r.fail(f"{label}: {shard['ShardId']} ApproximateArrivalTimestamps are recent and non-decreasing",
                       f"first bad {bad[:1]}, first three {arrivals[:3]}")
        put = sum(len(v) for v in self.expected.get(stream, {}).values())
        r.equal(f"{label}: records read from all shards = records put", total, put)

        # Paging with a small Limit must give the same records as one big read.
        busiest = max(self.expected.get(stream, {}).items(), key=lambda kv: len(kv[1]), default=(None, []))[0]
        if busiest:
            paged, _ = self.read_shard(stream, busiest, limit=7)
            whole, _ = self.read_shard(stream, busiest)
            r.check(
                f"{label}: GetRecords Limit=7 paging on {busiest} returns the same records",
                [x["SequenceNumber"] for x in paged] == [x["SequenceNumber"] for x in whole]
                and all(bytes(a["Data"]) == bytes(b["Data"]) for a, b in zip(paged, whole)),
                f"{len(paged)} vs {len(whole)} records",
            )
            first = self.kinesis.get_records(
                ShardIterator=self.kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=busiest, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"],
                Limit=2,
            )
            r.check(
                f"{label}: GetRecords Limit=2 answers at most 2 records and MillisBehindLatest",
                len(first.get("Records", [])) <= 2 and "MillisBehindLatest" in first and "NextShardIterator" in first,
                f"{len(first.get('Records', []))} records, keys {sorted(first)}",
            )
            whole_seqs = [x["SequenceNumber"] for x in whole]
            if len(whole_seqs) >= 3:
                it = self.kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=busiest, ShardIteratorType="AT_SEQUENCE_NUMBER",
                    StartingSequenceNumber=whole_seqs[1],
                )["ShardIterator"]
                got = self.kinesis.get_records(ShardIterator=it, Limit=1)["Records"]
                r.equal(f"{label}: AT_SEQUENCE_NUMBER starts at that record",
                        [x["SequenceNumber"] for x in got], [whole_seqs[1]])
                it = self.kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=busiest, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    StartingSequenceNumber=whole_seqs[1],
                )["ShardIterator"]
                got = self.kinesis.get_records(ShardIterator=it, Limit=1)["Records"]
                r.equal(f"{label}: AFTER_SEQUENCE_NUMBER starts after that record",
                        [x["SequenceNumber"] for x in got], [whole_seqs[2]])
            it = self.kinesis.get_shard_iterator(StreamName=stream, ShardId=busiest, ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
            latest = self.kinesis.get_records(ShardIterator=it)
            r.check(
                f"{label}: LATEST iterator returns nothing old",
                latest.get("Records") == [] and latest.get("MillisBehindLatest") == 0,
                f"{len(latest.get('Records', []))} records, MillisBehindLatest {latest.get('MillisBehindLatest')}",
            )

    def check_on_demand_records(self):
        if self.on_demand not in self.created:
            return
        r = self.report
        shards = self.by_hash(self.kinesis.list_shards(StreamName=self.on_demand)["Shards"])
        entries = [{"PartitionKey": f"od-{i}", "Data": f"on-demand {i}".encode()} for i in range(40)]
        entries.append({"PartitionKey": UNICODE_KEY, "Data": bytes(range(256))})
        results = self.put_batch(self.on_demand, entries)
        r.check(
            "on-demand: put_records routes by MD5 like a provisioned stream",
            all(
                res["ShardId"] == self.owner(shards, self.hash_of(e["PartitionKey"]))
                for e, res in zip(entries, results)
            ),
            "some records landed off their hash range",
        )
        for shard in shards:
            records, _ = self.read_shard(self.on_demand, shard["ShardId"])
            self.compare_shard("on-demand read back", self.on_demand, shard["ShardId"], records)

    def check_errors(self):
        r = self.report
        missing = f"{self.stream}-does-not-exist"
        self.expect_error("describe_stream_summary of an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.describe_stream_summary, StreamName=missing)
        self.expect_error("describe_stream of an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.describe_stream, StreamName=missing)
        self.expect_error("put_record to an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.put_record,
                          StreamName=missing, PartitionKey="k", Data=b"x")
        self.expect_error("put_records to an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.put_records,
                          StreamName=missing, Records=[{"PartitionKey": "k", "Data": b"x"}])
        self.expect_error("get_shard_iterator on an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.get_shard_iterator,
                          StreamName=missing, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
        self.expect_error("get_shard_iterator on an unknown shard → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.get_shard_iterator,
                          StreamName=self.stream, ShardId="shardId-000000009999", ShardIteratorType="TRIM_HORIZON")
        self.expect_error("delete_stream of an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.delete_stream, StreamName=missing)
        self.expect_error("get_records with a garbled iterator → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.get_records, ShardIterator="x" * 40)

        too_big = b"\x00" * ONE_MIB  # 1,048,576 bytes of data + a 1-byte key = 1,048,577
        self.expect_error("put_record of 1,048,577 bytes (data+key) → ValidationException or InvalidArgumentException",
                          ("ValidationException", "InvalidArgumentException"), self.kinesis.put_record,
                          StreamName=self.stream, PartitionKey="k", Data=too_big)
        self.expect_error("put_records with a 1,048,577-byte record → ValidationException or InvalidArgumentException",
                          ("ValidationException", "InvalidArgumentException"), self.kinesis.put_records,
                          StreamName=self.stream, Records=[{"PartitionKey": "k", "Data": too_big}])
        self.expect_error("put_record of 1,048,577 bytes of data alone → ValidationException or InvalidArgumentException",
                          ("ValidationException", "InvalidArgumentException"), self.kinesis.put_record,
                          StreamName=self.stream, PartitionKey="k", Data=b"\x00" * (ONE_MIB + 1))

        self.expect_error("put_records of 11 × 1,000,000 bytes (over 10 MiB) → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.put_records, StreamName=self.stream,
                          Records=[{"PartitionKey": f"over-{i}", "Data": b"\x01" * 1_000_000} for i in range(11)])

        records = [{"PartitionKey": f"k{i}", "Data": b"x"} for i in range(501)]
        try:
            self.kinesis.put_records(StreamName=self.stream, Records=records)
            r.fail("put_records of 501 records is refused", "the call succeeded", self.exchange())
        except ParamValidationError:
            r.ok("put_records of 501 records: botocore's ParamValidationError fires first")
            self.expect_error("put_records of 501 records (no client validation) → ValidationException",
                              "ValidationException", self.unvalidated.put_records,
                              StreamName=self.stream, Records=records)
        except ClientError as error:
            r.equal("put_records of 501 records → ValidationException", error_code(error), "ValidationException",
                    self.exchange())
        self.expect_error("put_records of 0 records (no client validation) → ValidationException",
                          "ValidationException", self.unvalidated.put_records, StreamName=self.stream, Records=[])
        self.expect_error("put_record with an empty partition key (no client validation) → ValidationException",
                          ("ValidationException", "InvalidArgumentException"), self.unvalidated.put_record,
                          StreamName=self.stream, PartitionKey="", Data=b"x")
        self.expect_error("put_record with a 257-character partition key → ValidationException",
                          ("ValidationException", "InvalidArgumentException"), self.kinesis.put_record,
                          StreamName=self.stream, PartitionKey="k" * 257, Data=b"x")

        self.expect_error("put_record with ExplicitHashKey 2^128 → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.put_record,
                          StreamName=self.stream, PartitionKey="k", Data=b"x", ExplicitHashKey=str(2**128))
        self.expect_error("put_records with ExplicitHashKey 2^128 → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.put_records, StreamName=self.stream,
                          Records=[{"PartitionKey": "k", "Data": b"x", "ExplicitHashKey": str(2**128)}])
        self.expect_error("put_record with ExplicitHashKey 'abc' → InvalidArgumentException or ValidationException",
                          ("InvalidArgumentException", "ValidationException"), self.kinesis.put_record,
                          StreamName=self.stream, PartitionKey="k", Data=b"x", ExplicitHashKey="abc")
        self.expect_error("put_record with ExplicitHashKey '-1' → InvalidArgumentException or ValidationException",
                          ("InvalidArgumentException", "ValidationException"), self.kinesis.put_record,
                          StreamName=self.stream, PartitionKey="k", Data=b"x", ExplicitHashKey="-1")
        by_shard = {k: v for k, v in self.expected.get(self.stream, {}).items() if v}
        if len(by_shard) >= 2:
            (shard_a, records_a), (shard_b, _) = sorted(by_shard.items())[:2]
            self.expect_error("get_shard_iterator AT_SEQUENCE_NUMBER with another shard's sequence number → "
                              "InvalidArgumentException", "InvalidArgumentException", self.kinesis.get_shard_iterator,
                              StreamName=self.stream, ShardId=shard_b, ShardIteratorType="AT_SEQUENCE_NUMBER",
                              StartingSequenceNumber=records_a[0][0])
        self.expect_error("get_shard_iterator with an unknown type → ValidationException",
                          "ValidationException", self.unvalidated.get_shard_iterator, StreamName=self.stream,
                          ShardId="shardId-000000000000", ShardIteratorType="SOMEWHERE")

        # Nothing above may have stored a record: the stream must still read back exactly what was put.
        self.check_read_back("read back after the refused puts")

    def check_reshard(self):
        r = self.report
        before = self.by_hash(self.list_all_shards(self.stream)[0])
        parents = {s["ShardId"] for s in before}
        answer = self.kinesis.update_shard_count(
            StreamName=self.stream, TargetShardCount=8, ScalingType="UNIFORM_SCALING"
        )
        r.check(
            "update_shard_count 4 → 8 answers Current 4, Target 8",
            answer.get("CurrentShardCount") == 4 and answer.get("TargetShardCount") == 8,
            f"got Current {answer.get('CurrentShardCount')} Target {answer.get('TargetShardCount')}",
            self.exchange(),
        )
        summary = self.wait_active(self.stream)
        r.ok("stream returns to ACTIVE after update_shard_count")
        r.equal("after reshard: summary OpenShardCount", summary.get("OpenShardCount"), 8)

        latest, _ = self.list_all_shards(self.stream, shard_filter={"Type": "AT_LATEST"})
        r.equal("after reshard: list_shards AT_LATEST returns 8 shards", len(latest), 8)
        r.check(
            "after reshard: AT_LATEST shards are all open (no EndingSequenceNumber)",
            all("EndingSequenceNumber" not in s.get("SequenceNumberRange", {}) for s in latest),
            f"{[s['ShardId'] for s in latest if 'EndingSequenceNumber' in s.get('SequenceNumberRange', {})]} closed",
        )
        r.check(
            "after reshard: AT_LATEST shards are children (none of the 4 parents)",
            not parents & {s["ShardId"] for s in latest},
            f"parents listed: {parents & {s['ShardId'] for s in latest}}",
        )
        r.check(
            "after reshard: every child names a parent",
            all(s.get("ParentShardId") for s in latest),
            f"{[(s['ShardId'], s.get('ParentShardId')) for s in latest]}",
        )
        self.check_even_split("after reshard", latest, 8)

        everything, _ = self.list_all_shards(self.stream)
        closed = [s for s in everything if s["ShardId"] in parents]
        r.equal("after reshard: an unfiltered list_shards still lists the 4 parents", len(closed), 4)
        r.check(
            "after reshard: the closed parents have an EndingSequenceNumber",
            len(closed) == 4 and all("EndingSequenceNumber" in s.get("SequenceNumberRange", {}) for s in closed),
            f"{[(s['ShardId'], s.get('SequenceNumberRange')) for s in closed]}",
        )
        ids = {s["ShardId"] for s in everything}
        dangling = [s["ShardId"] for s in everything if s.get("ParentShardId") and s["ParentShardId"] not in ids]
        r.check("after reshard: every ParentShardId is a listed shard", not dangling, f"{dangling}")

        open_ids = {s["ShardId"] for s in latest}
        ordered = self.by_hash(latest)
        entries = [{"PartitionKey": f"after-{i}", "Data": f"after reshard {i}".encode()} for i in range(200)]
        entries += [{"PartitionKey": key, "Data": b"vector"} for key, _ in ROUTING_VECTORS_4]
        entries.append({"PartitionKey": "x", "Data": b"ehk max", "ExplicitHashKey": str(MAX_HASH_KEY)})
        entries.append({"PartitionKey": "x", "Data": b"ehk 0", "ExplicitHashKey": "0"})
        results = self.put_batch(self.stream, entries)
        off = [res["ShardId"] for res in results if res["ShardId"] not in open_ids]
        r.check("after reshard: put_records lands only on open shards", not off, f"closed shards used: {set(off)}")
        wrong = [
            (e["PartitionKey"], res["ShardId"])
            for e, res in zip(entries, results)
            if res["ShardId"] != self.owner(ordered, self.hash_of(e["PartitionKey"], e.get("ExplicitHashKey")))
        ]
        r.check("after reshard: put_records routes by the children's hash ranges", not wrong, f"misplaced {wrong[:5]}")
        r.equal("after reshard: ExplicitHashKey 2^128-1 → last of 8", results[-2]["ShardId"], ordered[-1]["ShardId"])
        single = self.put_one(self.stream, "pk-1", b"single after reshard")
        r.check(
            "after reshard: put_record lands on an open shard",
            single["ShardId"] in open_ids,
            f"got {single['ShardId']}",
            self.exchange(),
        )

        for parent in self.by_hash(closed):
            records, last = self.read_shard(self.stream, parent["ShardId"])
            self.compare_shard("after reshard, closed parent", self.stream, parent["ShardId"], records)
            r.check(
                f"after reshard: get_records on drained {parent['ShardId']} ends with no NextShardIterator",
                last is not None and "NextShardIterator" not in last,
                f"last answer keys {sorted(last or {})}",
                self.exchange(),
            )
            children = {c.get("ShardId") for c in (last or {}).get("ChildShards", [])}
            expected_children = {
                s["ShardId"] for s in everything
                if parent["ShardId"] in (s.get("ParentShardId"), s.get("AdjacentParentShardId"))
            }
            r.check(
                f"after reshard: drained {parent['ShardId']} names its ChildShards",
                children and children == expected_children,
                f"ChildShards {sorted(children)}, list_shards children {sorted(expected_children)}",
            )
            end = parent["SequenceNumberRange"].get("EndingSequenceNumber")
            if end and records:
                r.check(
                    f"after reshard: {parent['ShardId']} records lie at or below its EndingSequenceNumber",
                    all(int(x["SequenceNumber"]) <= int(end) for x in records),
                    f"ending {end}, last record {records[-1]['SequenceNumber']}",
                )
        for child in ordered:
            records, _ = self.read_shard(self.stream, child["ShardId"])
            self.compare_shard("after reshard, open child", self.stream, child["ShardId"], records)

    def check_delete(self):
        r = self.report
        iterators = {}
        for stream in self.created:
            try:
                shard = self.kinesis.list_shards(StreamName=stream, MaxResults=1)["Shards"][0]["ShardId"]
                iterators[stream] = self.kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            except Exception:  # noqa: BLE001 - the read-back checks report problems with these calls
                pass
        for stream in list(self.created):
            try:
                self.kinesis.delete_stream(StreamName=stream)
                r.ok(f"delete_stream {stream}")
            except ClientError as error:
                r.fail(f"delete_stream {stream}", f"{error_code(error)}: {error}", self.exchange())
                continue
            deadline = time.monotonic() + 30
            code = None
            while time.monotonic() < deadline:
                try:
                    status = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
                        "StreamStatus"
                    ]
                    code = f"still there, {status}"
                except ClientError as error:
                    code = error_code(error)
                    break
                time.sleep(0.2)
            if r.equal(f"after delete_stream: describe_stream_summary {stream} → ResourceNotFoundException",
                       code, "ResourceNotFoundException", self.exchange()):
                self.created.remove(stream)
                self.expect_error(f"after delete_stream: put_record to {stream} → ResourceNotFoundException",
                                  "ResourceNotFoundException", self.kinesis.put_record,
                                  StreamName=stream, PartitionKey="k", Data=b"x")
                if stream in iterators:
                    self.expect_error(f"after delete_stream: get_records with an iterator of {stream} → "
                                      "ResourceNotFoundException", "ResourceNotFoundException",
                                      self.kinesis.get_records, ShardIterator=iterators[stream])
                names = self.kinesis.list_streams().get("StreamNames", [])
                r.check(f"after delete_stream: list_streams no longer names {stream}", stream not in names, f"{names}")

    def answers(self):
        try:
            self.kinesis.list_streams(Limit=1)
            return True
        except Exception:  # noqa: BLE001
            return False

    def check_malformed(self):
        """Out-of-range input must be refused with an error, never stop the server. Runs last: a server that
        crashes here cannot spoil the other checks."""
        r = self.report
        stream = f"{self.stream}-edge"
        self.kinesis.create_stream(StreamName=stream, ShardCount=1)
        self.created.append(stream)
        self.wait_active(stream)
        zero = "49" + "0" * 54  # the shape of this server's sequence numbers, with a zero counter
        # (check, expected code, client without parameter validation?, operation, arguments)
        probes = [
            ("list_streams Limit=0 (no client validation) → ValidationException", "ValidationException",
             True, "list_streams", dict(Limit=0)),
            ("list_streams Limit=10001 (no client validation) → ValidationException", "ValidationException",
             True, "list_streams", dict(Limit=10001)),
            ("list_streams Limit=-1 (no client validation) → ValidationException", "ValidationException",
             True, "list_streams", dict(Limit=-1)),
            (f"get_shard_iterator AT_SEQUENCE_NUMBER {zero} → InvalidArgumentException", "InvalidArgumentException",
             False, "get_shard_iterator",
             dict(StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="AT_SEQUENCE_NUMBER",
                  StartingSequenceNumber=zero)),
        ]
        for name, code, unvalidated, operation, kwargs in probes:
            if not self.answers():
                r.fail(name, "skipped: the server no longer answers")
                continue
            client = self.unvalidated if unvalidated else self.kinesis
            self.expect_error(name, code, getattr(client, operation), **kwargs)
            survivor = f"server still answers after: {name.split(' → ')[0]}"
            if self.answers():
                r.ok(survivor)
                continue
            if self.server is None:
                r.fail(survivor, "connection refused or dropped: the request stopped the server")
                continue
            self.server.wait_exit(20)  # a crashing Swift binary prints its backtrace before it ends
            r.fail(survivor, f"the request stopped the server: {self.server.crash_summary()}")
            # Start a fresh server so each remaining probe is judged on its own.
            self.connect(self.server.start())
            self.created = []
            self.kinesis.create_stream(StreamName=stream, ShardCount=1)
            self.created.append(stream)
            self.wait_active(stream)
        if self.answers():
            self.kinesis.delete_stream(StreamName=stream)
            self.created.remove(stream)

    def cleanup(self):
        """Best effort: delete streams a failed run left behind (only matters for a server we did not start)."""
        for stream in self.created:
            try:
                self.kinesis.delete_stream(StreamName=stream)
            except Exception:  # noqa: BLE001
                pass


# --------------------------------------------------------------------------------------------------------
# Starting the server (--start)
# --------------------------------------------------------------------------------------------------------


class LocalServer:
    BANNER = re.compile(r"KinesisLocal listening on (http://\S+)")

    def __init__(self, binary, timeout):
        self.binary = binary
        self.timeout = timeout
        self.process = None
        self.stderr = None
        self.endpoint = None

    @staticmethod
    def free_port():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    @staticmethod
    def _die_with_parent():
        # Linux: have the server get SIGTERM if this script dies without cleaning up.
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001
            pass

    def wait_exit(self, timeout):
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def start(self):
        self.stop()  # a restart: make sure the previous process is gone first
        if not os.path.isfile(self.binary) or not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"{self.binary} is not an executable; build it: swift build --product kinesis-pusher")
        port = self.free_port()
        command = [self.binary, "local", "--host", "127.0.0.1", "--port", str(port), "--no-shard-limits"]
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            preexec_fn=self._die_with_parent if sys.platform.startswith("linux") else None,
        )
        found = threading.Event()
        lines = []

        def pump():
            for raw in self.process.stdout:
                text = raw.decode("utf-8", "replace").rstrip("\n")
                if not found.is_set():
                    lines.append(text)
                    match = self.BANNER.search(text)
                    if match:
                        self.endpoint = match.group(1).rstrip("/")
                        found.set()
            found.set()  # stdout closed: the process ended

        threading.Thread(target=pump, daemon=True).start()
        found.wait(self.timeout)
        if self.endpoint is None:
            self.stop()
            raise RuntimeError(
                f"no 'KinesisLocal listening on http://…' banner within {self.timeout}s from {' '.join(command)}; "
                f"stdout {lines[-5:]!r}, stderr {self.stderr_tail()!r}"
            )
        print(f"# started {' '.join(command)} (pid {self.process.pid}) → {self.endpoint}", flush=True)
        return self.endpoint

    def crash_summary(self):
        """How the server ended: exit status, Swift's fatal error line and the first frame in Sources/."""
        status = self.process.poll() if self.process else None
        text = self.stderr_tail(limit=None)
        parts = [f"exit status {status}" if status is not None else "still running"]
        fatal = re.search(r"^.*(?:Fatal error|Swift runtime failure).*$", text, re.MULTILINE)
        if fatal:
            parts.append(fatal.group(0).strip(" *"))
        frame = re.search(r"0x[0-9a-f]+ (.+?) \+ \d+ in \S+ at \S*?/(Sources/\S+)", text)
        if frame:
            parts.append(f"in {frame.group(1)} at {frame.group(2)}")
        if not fatal and not frame and text.strip():
            parts.append(f"stderr ends {text.strip()[-200:]!r}")
        return "; ".join(parts)

    def stderr_tail(self, limit=800):
        if self.stderr is None:
            return ""
        try:
            self.stderr.seek(0)
            text = self.stderr.read().decode("utf-8", "replace")
            return text if limit is None else text[-limit:]
        except Exception:  # noqa: BLE001
            return ""

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class MotoServer:
    """moto_server on a free loopback port (--moto): the same checks against moto, to compare."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.process = None

    def start(self):
        port = LocalServer.free_port()
        command = ["moto_server", "-H", "127.0.0.1", "-p", str(port)]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    print(f"# started {' '.join(command)} (pid {self.process.pid})", flush=True)
                    return f"http://127.0.0.1:{port}"
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{' '.join(command)} did not listen within {self.timeout}s (is moto[server] installed?)")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --------------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description="boto3 conformance checks for KinesisLocal")
    parser.add_argument("--endpoint", help="KinesisLocal endpoint, e.g. http://127.0.0.1:4567")
    parser.add_argument("--start", action="store_true", help="start `<bin> local` on a free port, stop it at the end")
    parser.add_argument("--bin", default=".build/debug/kinesis-pusher", help="kinesis-pusher binary for --start")
    parser.add_argument("--start-timeout", type=float, default=60, help="seconds to wait for the banner")
    parser.add_argument("--moto", action="store_true",
                        help="start moto_server on a free port and run the same checks against it (to compare)")
    args = parser.parse_args()
    if sum([bool(args.start), bool(args.endpoint), bool(args.moto)]) != 1:
        parser.error("give one of --endpoint URL, --start or --moto")

    # Only the named endpoint is ever contacted: no proxies, no configured endpoints or profiles.
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
                     "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS"):
        os.environ.pop(variable, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    def on_signal(number, _frame):
        raise SystemExit(128 + number)

    signal.signal(signal.SIGTERM, on_signal)

    report = Report()
    server = None
    conformance = None
    try:
        endpoint = args.endpoint
        if args.moto:
            moto = MotoServer(args.start_timeout)
            try:
                endpoint = moto.start()
            except Exception as error:  # noqa: BLE001
                print(f"FAIL start moto_server: {error}", flush=True)
                return 2
        if args.start:
            server = LocalServer(args.bin, args.start_timeout)
            try:
                endpoint = server.start()
            except Exception as error:  # noqa: BLE001
                print(f"FAIL start {args.bin} local: {error}", flush=True)
                print("0 passed, 1 failed", flush=True)
                return 2
        print(f"# boto3 {boto3.__version__}, botocore {botocore.__version__}, endpoint {endpoint}", flush=True)
        conformance = Conformance(endpoint, report, server)
        try:
            conformance.run()
        finally:
            conformance.cleanup()
        if server is not None and server.process.poll() is not None:
            report.fail("server still running after the checks", server.crash_summary())
    finally:
        if server is not None:
            server.stop()
        if args.moto:
            moto.stop()
    if report.passed == 0 and report.failed == 0:
        report.fail("no check ran")
    report.print_by_operation("moto_server" if args.moto else "KinesisLocal")
    print(f"{report.passed} passed, {report.failed} failed", flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
