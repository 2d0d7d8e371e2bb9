"""The boto3 conformance checks of the operations beyond producing and reading: resharding by hand, capacity mode,
limits, retention, tags, enhanced monitoring, encryption, resource policies, record size, stream consumers, regions
and StreamARN addressing. A mixin of `Conformance` in boto3-conformance.py (it needs that class's `kinesis`,
`unvalidated`, `report`, `expect_error`, `exchange`, `wait_active`, `created` and `suffix`).

Each check follows the AWS API reference and botocore's service model; where moto_server differs, the check still
asserts AWS's behaviour (the README's conformance table explains each difference).
"""

import json

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

MAX_HASH_KEY = 2**128 - 1
ACCOUNT = "123456789012"


def even_ranges(count):
    """The hash ranges of `count` evenly split shards, as AWS creates them."""
    step = MAX_HASH_KEY // count + (1 if MAX_HASH_KEY % count == count - 1 else 0)
    starts = [i * step for i in range(count)]
    return [(start, (starts[i + 1] - 1) if i + 1 < count else MAX_HASH_KEY) for i, start in enumerate(starts)]


def hash_range(shard):
    keys = shard["HashKeyRange"]
    return int(keys["StartingHashKey"]), int(keys["EndingHashKey"])


def is_open(shard):
    return "EndingSequenceNumber" not in shard["SequenceNumberRange"]


class ControlPlaneChecks:
    # --- helpers -----------------------------------------------------------------------------------------

    def new_stream(self, label, shards=1, **extra):
        """Creates a stream for one group of checks and waits until it is ACTIVE; returns its name and ARN."""
        name = f"conformance-{label}-{self.suffix}"
        self.kinesis.create_stream(StreamName=name, ShardCount=shards, **extra)
        self.created.append(name)
        summary = self.wait_active(name)
        return name, summary["StreamARN"]

    def all_shards(self, stream):
        shards, token = [], None
        while True:
            page = (self.kinesis.list_shards(NextToken=token) if token
                    else self.kinesis.list_shards(StreamName=stream))
            shards += page["Shards"]
            token = page.get("NextToken")
            if not token:
                return shards

    def check_lineage(self, label, shards, open_count):
        """Each shard has at most two closed parents that cover it; the open shards tile the ring evenly."""
        r = self.report
        by_id = {shard["ShardId"]: shard for shard in shards}
        problems = []
        for shard in shards:
            parent = by_id.get(shard.get("ParentShardId")) if shard.get("ParentShardId") else None
            if shard.get("ParentShardId") and parent is None:
                problems.append(f"{shard['ShardId']}: parent {shard['ParentShardId']} not listed")
                continue
            if parent is None:
                continue
            if is_open(parent):
                problems.append(f"{shard['ShardId']}: parent {parent['ShardId']} still open")
            start, end = hash_range(shard)
            if shard.get("AdjacentParentShardId"):
                adjacent = by_id.get(shard["AdjacentParentShardId"])
                if adjacent is None or is_open(adjacent):
                    problems.append(f"{shard['ShardId']}: adjacent parent missing or open")
                    continue
                low, high = sorted([hash_range(parent), hash_range(adjacent)])
                if low[1] + 1 != high[0] or (low[0], high[1]) != (start, end):
                    problems.append(f"{shard['ShardId']}: merge parents do not make up its range")
            else:
                parent_start, parent_end = hash_range(parent)
                if not (parent_start <= start and end <= parent_end) or (parent_start, parent_end) == (start, end):
                    problems.append(f"{shard['ShardId']}: not a proper part of its parent's range")
        r.check(f"{label}: every child has at most two closed parents that make up or hold its range",
                not problems, "; ".join(problems[:5]))
        open_ranges = sorted(hash_range(shard) for shard in shards if is_open(shard))
        r.equal(f"{label}: the open shards split the ring evenly into {open_count}", open_ranges, even_ranges(open_count))

    # --- resharding by hand ------------------------------------------------------------------------------

    def check_split_merge(self):
        r = self.report
        stream, arn = self.new_stream("split", shards=2)
        shards = self.all_shards(stream)
        first, second = shards[0]["ShardId"], shards[1]["ShardId"]
        start, end = hash_range(shards[0])
        middle = start + (end - start) // 2
        self.kinesis.split_shard(StreamName=stream, ShardToSplit=first, NewStartingHashKey=str(middle))
        r.ok("split_shard at the middle of a shard")
        self.wait_active(stream)
        shards = self.all_shards(stream)
        children = [shard for shard in shards if shard.get("ParentShardId") == first]
        r.equal("split_shard: two children name the split shard as parent", len(children), 2)
        r.equal("split_shard: the children's ranges meet at NewStartingHashKey",
                sorted(hash_range(child) for child in children), [(start, middle - 1), (middle, end)])
        r.check("split_shard: the split shard is closed", not is_open(next(s for s in shards if s["ShardId"] == first)))
        answer = self.kinesis.put_record(StreamName=stream, Data=b"after split", PartitionKey="k",
                                         ExplicitHashKey=str(middle))
        upper = next(child["ShardId"] for child in children if hash_range(child)[0] == middle)
        r.equal("put_record after split_shard: ExplicitHashKey = NewStartingHashKey → upper child",
                answer["ShardId"], upper, self.exchange())
        self.expect_error("split_shard of a closed shard → ResourceInUseException", "ResourceInUseException",
                          self.kinesis.split_shard, StreamName=stream, ShardToSplit=first,
                          NewStartingHashKey=str(middle + 10))
        self.expect_error("split_shard at the shard's StartingHashKey → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.split_shard, StreamName=stream,
                          ShardToSplit=upper, NewStartingHashKey=str(middle))
        self.expect_error("split_shard of an unknown shard → ResourceNotFoundException", "ResourceNotFoundException",
                          self.kinesis.split_shard, StreamName=stream, ShardToSplit="shardId-000000009999",
                          NewStartingHashKey="5")
        self.expect_error("merge_shards of two shards that are not adjacent → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.merge_shards, StreamName=stream,
                          ShardToMerge=children[0]["ShardId"] if hash_range(children[0])[0] == start else children[1]["ShardId"],
                          AdjacentShardToMerge=second)
        # The upper child and the second original shard are adjacent.
        self.kinesis.merge_shards(StreamARN=arn, ShardToMerge=upper, AdjacentShardToMerge=second)
        r.ok("merge_shards by StreamARN of two adjacent shards")
        self.wait_active(stream)
        shards = self.all_shards(stream)
        merged = [shard for shard in shards if shard.get("AdjacentParentShardId")]
        r.check("merge_shards: one child names both shards", len(merged) == 1
                and {merged[0]["ParentShardId"], merged[0]["AdjacentParentShardId"]} == {upper, second},
                f"{[(s['ShardId'], s.get('ParentShardId'), s.get('AdjacentParentShardId')) for s in merged]}")
        if merged:
            r.equal("merge_shards: the child's range joins both", hash_range(merged[0]), (middle, MAX_HASH_KEY))
        r.equal("split then merge: two shards open", sum(1 for shard in shards if is_open(shard)), 2)

    def check_uniform_lineage(self):
        stream, _ = self.new_stream("scale", shards=3)
        answer = self.kinesis.update_shard_count(StreamName=stream, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
        self.report.equal("update_shard_count 3 → 5: CurrentShardCount", answer.get("CurrentShardCount"), 3)
        self.wait_active(stream)
        self.check_lineage("update_shard_count 3 → 5", self.all_shards(stream), open_count=5)

    def check_stream_mode(self):
        r = self.report
        stream, arn = self.new_stream("mode", shards=2)
        self.kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        r.ok("update_stream_mode → ON_DEMAND")
        self.wait_active(stream)
        summary = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        r.equal("update_stream_mode: the summary says ON_DEMAND", summary["StreamModeDetails"]["StreamMode"], "ON_DEMAND")
        self.expect_error("update_shard_count on an on-demand stream → ValidationException", "ValidationException",
                          self.kinesis.update_shard_count, StreamName=stream, TargetShardCount=4,
                          ScalingType="UNIFORM_SCALING")
        self.kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
        self.wait_active(stream)
        r.ok("update_stream_mode → PROVISIONED again")
        self.expect_error("update_stream_mode of an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.update_stream_mode,
                          StreamARN=arn + "-missing", StreamModeDetails={"StreamMode": "ON_DEMAND"})

    def check_limits(self):
        r = self.report
        limits = self.kinesis.describe_limits()
        for member in ("ShardLimit", "OpenShardCount", "OnDemandStreamCount", "OnDemandStreamCountLimit"):
            r.check(f"describe_limits: {member} is a count", isinstance(limits.get(member), int), f"{limits}")
        r.check("describe_limits: OpenShardCount ≤ what this run created plus others", limits.get("OpenShardCount", -1) >= 1,
                f"{limits}")
        before = limits.get("OpenShardCount", 0)
        stream, _ = self.new_stream("limits", shards=3)
        after = self.kinesis.describe_limits().get("OpenShardCount", 0)
        r.equal("describe_limits: OpenShardCount grows by a new stream's shards", after - before, 3)

    # --- retention, monitoring, encryption, record size -------------------------------------------------

    def check_retention(self):
        r = self.report
        stream, arn = self.new_stream("retention")
        self.kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=72)
        r.equal("increase_stream_retention_period 72 h: the summary says 72",
                self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["RetentionPeriodHours"], 72)
        self.expect_error("increase_stream_retention_period to less than now → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.increase_stream_retention_period,
                          StreamName=stream, RetentionPeriodHours=48)
        self.expect_error("decrease_stream_retention_period to more than now → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.decrease_stream_retention_period,
                          StreamName=stream, RetentionPeriodHours=96)
        self.expect_error("decrease_stream_retention_period below 24 h → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.decrease_stream_retention_period,
                          StreamName=stream, RetentionPeriodHours=23)
        self.expect_error("increase_stream_retention_period above 8760 h → InvalidArgumentException",
                          "InvalidArgumentException", self.kinesis.increase_stream_retention_period,
                          StreamName=stream, RetentionPeriodHours=8761)
        self.kinesis.decrease_stream_retention_period(StreamARN=arn, RetentionPeriodHours=24)
        r.equal("decrease_stream_retention_period by StreamARN to 24 h",
                self.kinesis.describe_stream(StreamName=stream)["StreamDescription"]["RetentionPeriodHours"], 24)

    def check_monitoring(self):
        r = self.report
        stream, _ = self.new_stream("monitoring")
        answer = self.kinesis.enable_enhanced_monitoring(StreamName=stream,
                                                         ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
        r.equal("enable_enhanced_monitoring: DesiredShardLevelMetrics",
                sorted(answer.get("DesiredShardLevelMetrics", [])), ["IncomingBytes", "OutgoingRecords"], self.exchange())
        r.equal("enable_enhanced_monitoring: CurrentShardLevelMetrics (before)", answer.get("CurrentShardLevelMetrics", []), [])
        answer = self.kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
        r.equal("enable_enhanced_monitoring ALL: seven metrics", len(answer.get("DesiredShardLevelMetrics", [])), 7)
        answer = self.kinesis.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["IncomingBytes"])
        r.check("disable_enhanced_monitoring: the metric is gone",
                "IncomingBytes" not in answer.get("DesiredShardLevelMetrics", ["IncomingBytes"])
                and len(answer.get("DesiredShardLevelMetrics", [])) == 6, f"{answer}")
        described = self.kinesis.describe_stream(StreamName=stream)["StreamDescription"]["EnhancedMonitoring"]
        r.equal("describe_stream: EnhancedMonitoring lists six metrics",
                len(described[0].get("ShardLevelMetrics", [])) if described else 0, 6)
        self.expect_error("enable_enhanced_monitoring of an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.enable_enhanced_monitoring,
                          StreamName=stream + "-missing", ShardLevelMetrics=["ALL"])

    def check_encryption(self):
        r = self.report
        stream, _ = self.new_stream("encryption")
        self.kinesis.start_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.wait_active(stream)
        summary = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        r.equal("start_stream_encryption: EncryptionType KMS", summary.get("EncryptionType"), "KMS")
        r.equal("start_stream_encryption: KeyId", summary.get("KeyId"), "alias/aws/kinesis")
        answer = self.kinesis.put_records(StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}])
        r.equal("put_records to an encrypted stream: EncryptionType KMS", answer.get("EncryptionType"), "KMS")
        self.kinesis.stop_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.wait_active(stream)
        summary = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        r.equal("stop_stream_encryption: EncryptionType NONE", summary.get("EncryptionType"), "NONE")

    def check_record_size(self):
        r = self.report
        stream, arn = self.new_stream("size", MaxRecordSizeInKiB=2048)
        summary = self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        r.equal("create_stream MaxRecordSizeInKiB 2048: the summary says so", summary.get("MaxRecordSizeInKiB"), 2048)
        big = b"r" * (1536 * 1024)
        answer = self.kinesis.put_record(StreamName=stream, Data=big, PartitionKey="k")
        r.check("put_record of 1.5 MiB into a 2 MiB stream", "SequenceNumber" in answer, f"{answer}")
        self.kinesis.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=1024)
        r.equal("update_max_record_size 1024: the summary says so",
                self.kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"].get("MaxRecordSizeInKiB"), 1024)
        self.expect_error("put_record of 1.5 MiB after update_max_record_size 1024 → ValidationException",
                          ("ValidationException", "InvalidArgumentException"), self.kinesis.put_record,
                          StreamName=stream, Data=big, PartitionKey="k")
        self.expect_error("update_max_record_size 512 (below 1024) → ValidationException", "ValidationException",
                          self.unvalidated.update_max_record_size, StreamARN=arn, MaxRecordSizeInKiB=512)

    # --- tags and policies ------------------------------------------------------------------------------

    def check_tags(self):
        r = self.report
        stream, arn = self.new_stream("tags", Tags={"team": "data"})
        tags = self.kinesis.list_tags_for_stream(StreamName=stream)
        r.equal("create_stream Tags: list_tags_for_stream has them", tags.get("Tags"), [{"Key": "team", "Value": "data"}])
        self.kinesis.add_tags_to_stream(StreamName=stream, Tags={"env": "test", "cost": "42"})
        tags = self.kinesis.list_tags_for_stream(StreamName=stream)
        r.equal("add_tags_to_stream: listed in key order", [tag["Key"] for tag in tags["Tags"]], ["cost", "env", "team"])
        r.equal("list_tags_for_stream: HasMoreTags false", tags.get("HasMoreTags"), False)
        page = self.kinesis.list_tags_for_stream(StreamName=stream, Limit=1, ExclusiveStartTagKey="cost")
        r.check("list_tags_for_stream Limit 1 after 'cost': env, more to come",
                [tag["Key"] for tag in page["Tags"]] == ["env"] and page.get("HasMoreTags") is True, f"{page}")
        self.kinesis.remove_tags_from_stream(StreamARN=arn, TagKeys=["env"])
        r.equal("remove_tags_from_stream by StreamARN", [tag["Key"] for tag in
                self.kinesis.list_tags_for_stream(StreamName=stream)["Tags"]], ["cost", "team"])
        self.kinesis.tag_resource(ResourceARN=arn, Tags={"owner": "me"})
        self.kinesis.untag_resource(ResourceARN=arn, TagKeys=["cost"])
        resource_tags = self.kinesis.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
        r.equal("tag_resource / untag_resource / list_tags_for_resource",
                sorted((tag["Key"], tag["Value"]) for tag in resource_tags), [("owner", "me"), ("team", "data")])
        self.expect_error("add_tags_to_stream past 50 tags → LimitExceededException or InvalidArgumentException",
                          ("LimitExceededException", "InvalidArgumentException"), self.kinesis.add_tags_to_stream,
                          StreamName=stream, Tags={f"k{i}": "v" for i in range(50)})
        self.expect_error("add_tags_to_stream of an unknown stream → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.add_tags_to_stream,
                          StreamName=stream + "-missing", Tags={"a": "b"})

    def check_policies(self):
        r = self.report
        stream, arn = self.new_stream("policy")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kinesis:DescribeStreamSummary", "Resource": arn}]})
        self.kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
        r.equal("put_resource_policy / get_resource_policy", json.loads(
            self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"]), json.loads(policy))
        self.kinesis.delete_resource_policy(ResourceARN=arn)
        r.equal("delete_resource_policy: get_resource_policy answers {}", json.loads(
            self.kinesis.get_resource_policy(ResourceARN=arn)["Policy"]), {})
        self.expect_error("put_resource_policy that is not JSON → InvalidArgumentException",
                          ("InvalidArgumentException", "ValidationException"), self.kinesis.put_resource_policy,
                          ResourceARN=arn, Policy="not json")

    # --- consumers --------------------------------------------------------------------------------------

    def check_consumers(self):
        r = self.report
        stream, arn = self.new_stream("consumers")
        consumer = self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="reader")["Consumer"]
        r.check("register_stream_consumer: ConsumerARN under the stream's ARN",
                consumer["ConsumerARN"].startswith(arn + "/consumer/reader:"), consumer["ConsumerARN"])
        r.check("register_stream_consumer: status CREATING or ACTIVE",
                consumer["ConsumerStatus"] in ("CREATING", "ACTIVE"), consumer["ConsumerStatus"])
        described = self.kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]
        r.equal("describe_stream_consumer by ConsumerARN: StreamARN", described.get("StreamARN"), arn)
        by_name = self.kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="reader")["ConsumerDescription"]
        r.equal("describe_stream_consumer by StreamARN and name", by_name["ConsumerARN"], consumer["ConsumerARN"])
        self.expect_error("register_stream_consumer twice → ResourceInUseException", "ResourceInUseException",
                          self.kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="reader")
        for index in range(3):
            self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"more-{index}")
        names, token, pages = [], None, 0
        while pages < 10:
            page = (self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2, NextToken=token) if token
                    else self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2))
            names += [item["ConsumerName"] for item in page.get("Consumers", [])]
            pages += 1
            token = page.get("NextToken")
            if not token:
                break
        r.equal("list_stream_consumers MaxResults 2: every consumer over the pages", sorted(names),
                ["more-0", "more-1", "more-2", "reader"])
        r.equal("describe_stream_summary: ConsumerCount", self.kinesis.describe_stream_summary(
            StreamName=stream)["StreamDescriptionSummary"].get("ConsumerCount"), 4)
        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
        self.expect_error("describe_stream_consumer after deregister → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.describe_stream_consumer,
                          ConsumerARN=consumer["ConsumerARN"])
        for index in range(3):
            self.kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName=f"more-{index}")
        r.equal("deregister_stream_consumer by StreamARN and name: none left",
                self.kinesis.list_stream_consumers(StreamARN=arn).get("Consumers", []), [])

    def check_subscribe(self):
        """subscribe_to_shard: boto3 reads the event stream (initial-response, then SubscribeToShardEvent)."""
        r = self.report
        stream, arn = self.new_stream("subscribe")
        consumer = self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="pusher")["Consumer"]["ConsumerARN"]
        self.kinesis.put_records(StreamName=stream, Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"}
                                                             for i in range(5)])
        shard = self.kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        answer = self.kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard,
                                                 StartingPosition={"Type": "TRIM_HORIZON"})
        r.ok("subscribe_to_shard: boto3 accepts the initial-response")
        events = answer["EventStream"]
        received, continuation = [], None
        try:
            for event in events:
                body = event.get("SubscribeToShardEvent", {})
                received += [record["Data"] for record in body.get("Records", [])]
                continuation = body.get("ContinuationSequenceNumber", continuation)
                if len(received) >= 5:
                    break
        finally:
            events.close()
        r.equal("subscribe_to_shard: the records, in order, as bytes", received, [f"r{i}".encode() for i in range(5)])
        r.check("subscribe_to_shard: events carry ContinuationSequenceNumber", bool(continuation), f"{continuation!r}")
        self.expect_error("subscribe_to_shard again within 5 s → ResourceInUseException", "ResourceInUseException",
                          lambda: self.kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard,
                                                                  StartingPosition={"Type": "LATEST"}))
        self.expect_error("subscribe_to_shard with an unknown consumer → ResourceNotFoundException",
                          "ResourceNotFoundException", self.kinesis.subscribe_to_shard,
                          ConsumerARN=arn + "/consumer/none:1", ShardId=shard, StartingPosition={"Type": "LATEST"})
        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer)

    # --- ordering, regions, StreamARN ------------------------------------------------------------------

    def check_ordering(self):
        r = self.report
        stream, _ = self.new_stream("ordering")
        first = self.kinesis.put_record(StreamName=stream, Data=b"1", PartitionKey="k")["SequenceNumber"]
        second = self.kinesis.put_record(StreamName=stream, Data=b"2", PartitionKey="k",
                                         SequenceNumberForOrdering=first)["SequenceNumber"]
        r.check("put_record SequenceNumberForOrdering: the new sequence number is greater", int(second) > int(first),
                f"{first} then {second}")
        self.expect_error("put_record SequenceNumberForOrdering not a number → ValidationException",
                          ("ValidationException", "InvalidArgumentException"), self.unvalidated.put_record,
                          StreamName=stream, Data=b"3", PartitionKey="k", SequenceNumberForOrdering="12ab")

    def check_regions(self):
        r = self.report
        stream, arn = self.new_stream("region")
        r.check("StreamARN carries the region signed for", arn.startswith("arn:aws:kinesis:us-east-1:"), arn)
        session = boto3.session.Session(aws_access_key_id="AKIDLOCAL", aws_secret_access_key="local",
                                        region_name="eu-west-1")
        west = session.client("kinesis", endpoint_url=self.endpoint,
                              config=Config(retries={"max_attempts": 1, "mode": "standard"}, proxies={}))
        self.recorder.attach(west)
        try:
            west.describe_stream_summary(StreamName=stream)
            r.fail("a us-east-1 stream is not seen from eu-west-1", "describe_stream_summary succeeded", self.exchange())
        except ClientError as error:
            r.equal("a us-east-1 stream is not seen from eu-west-1", error.response["Error"]["Code"],
                    "ResourceNotFoundException")
        west.create_stream(StreamName=stream, ShardCount=2)
        try:
            summary = west.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
            r.check("the same name in eu-west-1 is another stream, its ARN in eu-west-1",
                    summary["StreamARN"].startswith("arn:aws:kinesis:eu-west-1:") and summary["OpenShardCount"] == 2,
                    f"{summary['StreamARN']}, {summary['OpenShardCount']} shards")
            west.put_record(StreamName=stream, Data=b"west", PartitionKey="k")
            east_count = sum(len(self.kinesis.get_records(ShardIterator=self.kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"])
                for shard in self.all_shards(stream))
            r.equal("a record put in eu-west-1 is not in the us-east-1 stream", east_count, 0)
        finally:
            west.delete_stream(StreamName=stream)
        self.kinesis.describe_stream_summary(StreamName=stream)
        r.ok("deleting the eu-west-1 stream leaves the us-east-1 one")

    def check_arn_everywhere(self):
        r = self.report
        stream, arn = self.new_stream("arn", shards=2)
        shard = self.kinesis.list_shards(StreamARN=arn)["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(StreamARN=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        r.check("get_shard_iterator by StreamARN", "ShardIterator" in iterator)
        r.check("get_records with StreamARN", "Records" in self.kinesis.get_records(
            ShardIterator=iterator["ShardIterator"], StreamARN=arn))
        for operation, call in [
            ("describe_stream", lambda: self.kinesis.describe_stream(StreamARN=arn)),
            ("describe_stream_summary", lambda: self.kinesis.describe_stream_summary(StreamARN=arn)),
            ("put_record", lambda: self.kinesis.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")),
            ("put_records", lambda: self.kinesis.put_records(StreamARN=arn, Records=[{"Data": b"x", "PartitionKey": "k"}])),
            ("list_tags_for_stream", lambda: self.kinesis.list_tags_for_stream(StreamARN=arn)),
            ("enable_enhanced_monitoring", lambda: self.kinesis.enable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["ALL"])),
            ("update_shard_count", lambda: self.kinesis.update_shard_count(StreamARN=arn, TargetShardCount=4, ScalingType="UNIFORM_SCALING")),
        ]:
            try:
                call()
                r.ok(f"{operation} by StreamARN")
            except ClientError as error:
                r.fail(f"{operation} by StreamARN", f"{error_code_of(error)}: {error}", self.exchange())
        self.wait_active(stream)
        self.kinesis.delete_stream(StreamARN=arn)
        self.created.remove(stream)
        r.ok("delete_stream by StreamARN")


def error_code_of(error):
    return error.response.get("Error", {}).get("Code")
