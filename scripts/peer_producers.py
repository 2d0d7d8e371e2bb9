"""The Python contenders of scripts/compare-peers.sh, each pushing the same generated records to a Kinesis endpoint.

Run as `python peer_producers.py CONTENDER --endpoint URL --stream S --records N --size B [--aggregate]`; prints one
JSON object: what the contender says it delivered, and its own CPU seconds and wall time from the first record
handed over until every record is acknowledged (client set-up and interpreter start are left out, as they are for
`kinesis-pusher bench producer`). Every contender's client-side rate limiting is turned off (the server has no
limits), as the Runner's is in the benchmark.
"""

import argparse
import asyncio
import json
import resource
import sys
import time

KEYS = [f"partition-key-{i}" for i in range(1000)]
ACCESS_KEY, SECRET_KEY, REGION = "AKIDBENCH", "bench", "us-east-1"


def cpu_seconds():
    """User + system CPU of this process (all threads) and of its waited-for children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def peak_rss_mib():
    """This process's resident-set high-water mark, VmHWM: unlike ru_maxrss, not inherited from the parent's at fork
    and kept across exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


class Clock:
    """CPU and wall time between start() and stop()."""

    def start(self):
        self.cpu, self.wall = cpu_seconds(), time.monotonic()

    def stop(self):
        return {"cpu_s": cpu_seconds() - self.cpu, "elapsed_s": time.monotonic() - self.wall}


def boto3_loop(args, clock):
    """boto3's put_records in 500-record batches, resending only the entries that failed."""
    import boto3

    client = boto3.client("kinesis", endpoint_url=args.endpoint, region_name=REGION,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    payload = b"a" * args.size
    delivered, batch = 0, []
    clock.start()
    for index in range(args.records):
        batch.append({"Data": payload, "PartitionKey": KEYS[index % len(KEYS)]})
        if len(batch) == 500 or index == args.records - 1:
            while batch:
                answer = client.put_records(StreamName=args.stream, Records=batch)
                entries = answer["Records"]
                delivered += sum(1 for entry in entries if "ErrorCode" not in entry)
                batch = [record for record, entry in zip(batch, entries) if "ErrorCode" in entry]
    return {"claimed_delivered": delivered, **clock.stop()}


async def aiokpl_producer(args, clock):
    """aiokpl's Producer (KPL pipeline: aggregator, limiter, collector), awaiting every record's outcome."""
    from aiokpl import Config, Producer

    config = Config(
        region=REGION, endpoint_url=args.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        aggregation_enabled=args.aggregate,
        rate_limit_records_per_sec_per_shard=1e12, rate_limit_bytes_per_sec_per_shard=1e15,
    )
    payload = b"a" * args.size
    async with Producer(config) as producer:
        clock.start()
        outcomes = []
        for index in range(args.records):
            outcomes.append(await producer.put_record(stream=args.stream, partition_key=KEYS[index % len(KEYS)], data=payload))
        await producer.flush()
        delivered = 0
        for outcome in outcomes:
            delivered += (await outcome.wait()).success
        measured = clock.stop()
    return {"claimed_delivered": delivered, **measured}


async def async_kinesis_producer(args, clock):
    """async-kinesis's Producer; with --aggregate its KPL processor (aws-kinesis-agg), which takes no partition key."""
    import os

    os.environ.setdefault("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    from kinesis import Producer
    from kinesis.processors import KPLStringProcessor, StringProcessor

    processor = KPLStringProcessor() if args.aggregate else StringProcessor()
    payload = "a" * args.size  # the string processors send str(item) as UTF-8: these exact bytes
    async with Producer(stream_name=args.stream, endpoint_url=args.endpoint, region_name=REGION,
                        processor=processor) as producer:
        # Its throttlers (default 1000 items/s and 1 MiB/s for the whole stream) are public attributes: off.
        producer.put_rate_throttle.rate_limit = None
        producer.put_bandwidth_throttle.size_limit = None
        clock.start()
        for index in range(args.records):
            await producer.put(payload, partition_key=None if args.aggregate else KEYS[index % len(KEYS)])
        await producer.flush()
        measured = clock.stop()
    # It reports no per-record outcome: the server's count is the only word on delivery.
    return {"claimed_delivered": None, **measured}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("contender", choices=["boto3", "aiokpl", "async-kinesis"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stream", default="bench")
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--aggregate", action="store_true")
    args = parser.parse_args()
    clock = Clock()
    if args.contender == "boto3":
        if args.aggregate:
            sys.exit("boto3 has no aggregation")
        result = boto3_loop(args, clock)
    elif args.contender == "aiokpl":
        result = asyncio.run(aiokpl_producer(args, clock))
    else:
        result = asyncio.run(async_kinesis_producer(args, clock))
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
