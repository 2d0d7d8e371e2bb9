#!/usr/bin/env python3
"""The Python half of scripts/soak.sh: input generators, the credential_process, the fault controller, the memory
sampler and the checks. Each subcommand is one small job; soak.sh wires them together."""
import datetime
import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from collections import Counter


def pad(head, size):
    """A JSON object line padded with x's to `size` bytes (newline included)."""
    return head + "x" * max(0, size - len(head) - 3) + '"}\n'


def gen(rate, seconds, keys, count_file):
    """Paced NDJSON on stdout: `rate` records/s for `seconds`, each {"id": unique, "key": "kK", "seq": K's count}.
    When the push holds back (backpressure) the writes block; afterwards it catches up, at most a second's worth a
    tick. Writes how many records it wrote to `count_file` at the end."""
    rate, seconds, keys = float(rate), float(seconds), int(keys)
    seq = [0] * keys
    start, i = time.monotonic(), 0
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            due = min(int(rate * elapsed), i + int(rate))
            lines = []
            while i < due:
                k = (i * 7919) % keys
                lines.append(pad(f'{{"id":{i},"key":"k{k}","seq":{seq[k]},"pad":"', 120))
                seq[k] += 1
                i += 1
            if lines:
                sys.stdout.write("".join(lines))
                sys.stdout.flush()
            time.sleep(0.05)
    finally:
        with open(count_file, "w") as f:
            f.write(f"{i}\n")


def gen_fast(producer, seconds, count_file):
    """As fast as the push takes them, for `seconds`: 100-byte records {"id": "P-N", "key": one of 1000}."""
    end, i = time.monotonic() + float(seconds), 0
    try:
        while time.monotonic() < end:
            lines = []
            for _ in range(200):
                lines.append(pad(f'{{"id":"{producer}-{i}","key":"k{(i * 7919 + int(producer) * 131) % 1000}","pad":"', 100))
                i += 1
            sys.stdout.write("".join(lines))
            sys.stdout.flush()
    finally:
        with open(count_file, "w") as f:
            f.write(f"{i}\n")


def creds(log_path, short_lifetime):
    """credential_process: a new access key id and session token on every call. A process's odd calls expire in an
    hour (so KinesisLocal's expiredTokenAfterRequests ends them first: ExpiredTokenException, then a refresh), its
    even calls `short_lifetime` seconds from now (the cache refreshes them in the background 5 minutes before)."""
    parent = os.getppid()
    try:
        calls = sum(1 for line in open(log_path) if line.split()[1] == str(parent))
    except FileNotFoundError:
        calls = 0
    lifetime = float(short_lifetime) if calls % 2 == 1 else 3600
    key = "ASIA" + uuid.uuid4().hex[:16].upper()
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
    with open(log_path, "a") as log:
        log.write(f"{time.time():.3f} {parent} {key} {int(lifetime)}\n")
    print(json.dumps({
        "Version": 1, "AccessKeyId": key, "SecretAccessKey": uuid.uuid4().hex, "SessionToken": "soak-" + uuid.uuid4().hex,
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }))


def post(endpoint, path, body):
    request = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def get(endpoint, path):
    with urllib.request.urlopen(endpoint + path, timeout=10) as answer:
        return json.load(answer)


def chaos(endpoint, seconds, period, faults_json, *streams):
    """Every `period` seconds: a latency spike at a quarter of it (every third spike longer than the client's 6 s
    request timeout, so stored records are sent again) and, at half of it, every stream resharded 4 → 8 → 4 ….
    Every other fault stays on throughout. Logs each change."""
    seconds, period = float(seconds), float(period)
    base = json.loads(faults_json)
    events = []
    for k in range(int(seconds // period) + 1):
        start = k * period
        long_spike = k % 3 == 0
        spike_ms, spike_s = (7000, 0.4 * period) if long_spike else (1500, 0.15 * period)
        events.append((start + 0.25 * period, "spike", spike_ms, k))
        events.append((start + 0.25 * period + spike_s, "spike", base["addedLatencyMilliseconds"], k))
        events.append((start + 0.5 * period, "reshard", 8 if k % 2 == 0 else 4, k))
    t0 = time.monotonic()
    for at, kind, value, k in sorted(events):
        if at >= seconds:
            break
        time.sleep(max(0, at - (time.monotonic() - t0)))
        try:
            if kind == "spike":
                post(endpoint, "/_admin/faults", dict(base, addedLatencyMilliseconds=value, seed=base["seed"] + k))
                print(f"{at:7.1f} s  latency {value} ms", flush=True)
            else:
                for stream in streams:
                    answer = post(endpoint, "/_admin/reshard", {"stream": stream, "shardCount": value})
                    print(f"{at:7.1f} s  reshard {stream} {answer['previousOpenShards']} -> {answer['openShards']}", flush=True)
        except OSError as error:
            print(f"{at:7.1f} s  {kind} failed: {error}", flush=True)


def mem(pid, out_path):
    """VmRSS of `pid` every second until it exits: lines of 'seconds kB'."""
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        while True:
            try:
                with open(f"/proc/{pid}/status") as status:
                    rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            except (OSError, StopIteration):
                return
            out.write(f"{time.monotonic() - t0:.1f} {rss}\n")
            out.flush()
            time.sleep(1)


def memory_summary(path, seconds, warmup):
    """Samples taken while input flowed, after `warmup` seconds, in thirds: flat if the last third's peak is within
    20 % of the first third's."""
    samples = [(float(t), int(kb)) for t, kb in (line.split() for line in open(path))]
    steady = [kb for t, kb in samples if warmup <= t <= seconds]
    if len(steady) < 6:
        return False, f"too few memory samples ({len(samples)})"
    third = len(steady) // 3
    first, last = max(steady[:third]), max(steady[-third:])
    flat = last <= 1.2 * first
    mib = lambda kb: f"{kb / 1024:.1f}"
    return flat, (f"peak RSS {mib(max(kb for _, kb in samples))} MiB; {len(steady)} samples after {warmup:.0f} s warm-up: min {mib(min(steady))}, "
                  f"median {mib(statistics.median(steady))}, first-third max {mib(first)}, last-third max {mib(last)} MiB "
                  f"(x{last / first:.2f}) -> {'flat' if flat else 'GROWING'}")


def verify(label, count_file, read_out, read_summary, report, mem_file, seconds, warmup, ordered, push_status, push_log):
    """Compares the read-back (KCL view) with what the generator wrote; prints one block and exits 1 on a failure."""
    sent = int(open(count_file).read())
    seen = Counter()
    wrong_key = 0
    first_seen = {}   # key -> highest seq among the records read so far (each id counted at its first occurrence)
    violations = 0
    for line in open(read_out):
        r = json.loads(line)
        record = json.loads(r["data"])
        if record["key"] != r["partition_key"]:
            wrong_key += 1
        seen[record["id"]] += 1
        if seen[record["id"]] == 1:
            top = first_seen.get(record["key"], -1)
            if record["seq"] < top:
                violations += 1
            first_seen[record["key"]] = max(top, record["seq"])
    unique = sum(1 for i in seen if 0 <= i < sent)
    extra = sum(1 for i in seen if not 0 <= i < sent)
    duplicates = sum(seen.values()) - len(seen)
    summary = json.load(open(read_summary))
    try:
        push = json.load(open(report))
    except (OSError, ValueError):
        push = {}
    failed = push.get("failed", sent)
    missing = sent - unique
    lost = max(missing, failed)
    flat, memory = memory_summary(mem_file, float(seconds), float(warmup))
    log = open(push_log).read()
    push_seconds = push.get("elapsed_s", 0)
    print(f"  {label}: sent {sent}, delivered {unique} ({unique / max(push_seconds, 1):.0f}/s over {push_seconds:.0f} s), "
          f"duplicates {duplicates}, lost {lost} (missing {missing}, failed in push {failed}), "
          f"order violations {violations}{'' if ordered else ' (not ordered: informational)'}, wrong key {wrong_key}, unexpected ids {extra}")
    print(f"      push: exit {push_status}, requests {push.get('requests')}, retries {push.get('retries')}, throttled {push.get('throttled')}, "
          f"recovered {push.get('recovered')}, Kinesis records {push.get('kinesis_records')}, reaggregated {push.get('reaggregated')}; "
          f"read {summary['kinesis_records']} Kinesis records from {summary['shards']} shards, KCL-dropped aggregates {summary['dropped_aggregates']}")
    print(f"      credentials: {log.count('credentials expired; retrying')} ExpiredTokenException answers seen, "
          f"{log.count('credentials refreshed')} refreshes")
    print(f"      memory: {memory}")
    ok = lost == 0 and wrong_key == 0 and extra == 0 and flat and push_status == "0" and (not ordered or violations == 0)
    print(("  ok   " if ok else "  FAIL ") + label)
    sys.exit(0 if ok else 1)


def credentials_report(endpoint, log_path):
    """What the credential_process handed out and what KinesisLocal refused."""
    calls = Counter(line.split()[1] for line in open(log_path))
    stats = get(endpoint, "/_admin/stats")
    print(f"  credentials: {sum(calls.values())} credential_process calls over {len(calls)} push processes "
          f"({', '.join(str(n) for n in calls.values())}), each a new access key; "
          f"KinesisLocal answered ExpiredTokenException {stats['expiredTokens']} times")


def stats_watch(endpoint, stream, seconds, out_path):
    """The stream's accepted and throttled counts every second for `seconds`: lines of 'seconds accepted throttled'."""
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        while (t := time.monotonic() - t0) < float(seconds):
            s = get(endpoint, "/_admin/stats")["streams"][stream]
            out.write(f"{t:.2f} {s['accepted']} {s['throttled']}\n")
            out.flush()
            time.sleep(1)


def many(endpoint, stream, samples_path, warmup, gate, read_out, *producers):
    """Producers sharing one 4-shard stream: share of the record limit in the steady window (after `warmup` s),
    throttled share of attempts (`gate` "run": over the whole run; "window": in the steady window only, for runs
    too short to amortize the start, when every producer opens with a full bucket), per-producer shares, nothing
    lost. Each producer is LABEL:COUNT_FILE:REPORT:STATUS."""
    limit = 4 * 1000
    rows = [tuple(map(float, line.split())) for line in open(samples_path)]
    window = [r for r in rows if r[0] >= float(warmup)][:-1] or rows
    (t0, a0, h0), (t1, a1, h1) = window[0], window[-1]
    rate = (a1 - a0) / (t1 - t0)
    window_throttle = (h1 - h0) / max(1, (a1 - a0) + (h1 - h0))
    stats = get(endpoint, "/_admin/stats")["streams"][stream]
    throttle = stats["throttled"] / max(1, stats["accepted"] + stats["throttled"])
    seen = Counter(json.loads(json.loads(line)["data"])["id"] for line in open(read_out))
    reports, lost, failures = [], 0, []
    for spec in producers:
        label, count_file, report, status = spec.split(":")
        sent = int(open(count_file).read())
        push = json.load(open(report))
        missing = sum(1 for i in range(sent) if f"{label}-{i}" not in seen)
        lost += max(missing, push["failed"])
        reports.append((label, sent, push, missing, status))
        if status != "0":
            failures.append(f"producer {label} exited {status}")
    total = sum(p["delivered"] for _, _, p, _, _ in reports)
    shares = [p["delivered"] / total for _, _, p, _, _ in reports]
    jain = sum(shares) ** 2 / (len(shares) * sum(s * s for s in shares))
    for (label, sent, push, missing, status), share in zip(reports, shares):
        print(f"  producer {label}: sent {sent}, delivered {push['delivered']} in {push['elapsed_s']:.1f} s ({push['records_per_s']:.0f}/s), "
              f"share {share:.1%}, throttled {push['throttled']}, retries {push['retries']}, requests {push['requests']}, "
              f"missing {missing}, failed {push['failed']}, exit {status}")
    print("  shards: " + ", ".join(f"{s['shardId'][-2:]} accepted {s['accepted']} throttled {s['throttled']}" for s in stats["shards"]))
    print(f"  together: {rate:.0f} records/s from {t0:.0f} s to {t1:.0f} s = {rate / limit:.1%} of the {limit} records/s limit; "
          f"throttled {window_throttle:.2%} of attempts in that window, {throttle:.2%} over the whole run "
          f"({stats['throttled']} of {stats['accepted'] + stats['throttled']}); fairness (Jain) {jain:.3f}, "
          f"shares {min(shares):.1%}-{max(shares):.1%}; lost {lost}; duplicates {sum(seen.values()) - len(seen)}")
    if rate < 0.85 * limit:
        failures.append(f"{rate / limit:.1%} of the limit (want >= 85 %)")
    gated = throttle if gate == "run" else window_throttle
    if gated >= 0.10:
        failures.append(f"{gated:.1%} of attempts throttled ({'whole run' if gate == 'run' else 'steady window'}; want < 10 %)")
    if lost:
        failures.append(f"{lost} records lost")
    print(("  ok   many producers" if not failures else "  FAIL many producers: " + "; ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    commands = {
        "gen": gen, "gen-fast": gen_fast, "creds": creds, "chaos": chaos, "mem": mem, "verify": verify,
        "credentials-report": credentials_report, "stats-watch": stats_watch, "many": many,
    }
    commands[sys.argv[1]](*sys.argv[2:])
