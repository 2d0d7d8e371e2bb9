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


# The admin token soak.sh gave `kinesis-pusher local` (lib.sh exports it).
ADMIN_HEADERS = {"Authorization": "Bearer " + os.environ.get("LOCAL_ADMIN_TOKEN", "")}


def post(endpoint, path, body):
    request = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST", headers=ADMIN_HEADERS)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def get(endpoint, path):
    with urllib.request.urlopen(urllib.request.Request(endpoint + path, headers=ADMIN_HEADERS), timeout=10) as answer:
        return json.load(answer)


def schedule(seconds, period, base_latency):
    """The fault controller's plan for a run of `seconds`: every `period` seconds a latency spike at a quarter of it
    (every third spike, the first included, longer than the client's 6 s request timeout, so stored records are sent
    again) and its end, and at half of it every stream resharded 4 -> 8 -> 4 .... Events due at or after `seconds` are
    left out. A list of (at, kind, value, k), in time order."""
    seconds, period = float(seconds), float(period)
    events = []
    for k in range(int(seconds // period) + 1):
        start = k * period
        long_spike = k % 3 == 0
        spike_ms, spike_s = (7000, 0.4 * period) if long_spike else (1500, 0.15 * period)
        events.append((start + 0.25 * period, "spike", spike_ms, k))
        events.append((start + 0.25 * period + spike_s, "spike", base_latency, k))
        events.append((start + 0.5 * period, "reshard", 8 if k % 2 == 0 else 4, k))
    return [event for event in sorted(events) if event[0] < seconds]


def chaos(endpoint, seconds, period, faults_json, summary_path, *streams):
    """Applies `schedule` (every other fault stays on throughout) and logs each change. Every request to the server
    must succeed and take: a latency change must be echoed back, a reshard must answer the shard count it was asked
    for. Writes {"planned": n, "applied": n, "failed": [...]} to `summary_path`; exits 1 if anything failed."""
    base = json.loads(faults_json)
    plan = schedule(seconds, period, base["addedLatencyMilliseconds"])
    applied, failed = 0, []
    t0 = time.monotonic()
    for at, kind, value, k in plan:
        time.sleep(max(0, at - (time.monotonic() - t0)))
        try:
            if kind == "spike":
                answer = post(endpoint, "/_admin/faults", dict(base, addedLatencyMilliseconds=value, seed=base["seed"] + k))
                if answer.get("addedLatencyMilliseconds") != value:
                    raise ValueError(f"the server answered {answer}")
                print(f"{at:7.1f} s  latency {value} ms", flush=True)
            else:
                for stream in streams:
                    answer = post(endpoint, "/_admin/reshard", {"stream": stream, "shardCount": value})
                    if answer.get("openShards") != str(value):
                        raise ValueError(f"the server answered {answer}")
                    print(f"{at:7.1f} s  reshard {stream} {answer['previousOpenShards']} -> {answer['openShards']}", flush=True)
            applied += 1
        except (OSError, ValueError) as error:
            failed.append(f"{at:.1f} s {kind} {value}: {error}")
            print(f"{at:7.1f} s  {kind} failed: {error}", flush=True)
    with open(summary_path, "w") as f:
        json.dump({"planned": len(plan), "applied": applied, "failed": failed}, f)
    sys.exit(1 if failed or applied != len(plan) else 0)


def faults_check(endpoint, seconds, period, faults_json, chaos_summary, credentials_log, *streams):
    """Fails when a fault that the run should have had did not happen, each against what the run length implies:
    - the controller: every planned change applied, none failed (its summary), and at least one spike of each
      length and one reshard planned (a run too short for them fails);
    - reshards, on the server: each stream has 4 + the sum of the reshard targets shards, and the last target open;
    - credentials: an access key serves at most `expire_after` requests before ExpiredTokenException, so the
      credential_process must have been called at least ceil((requests - expired) / expiredTokenAfterRequests) times, and
      that must be at least 2 per push (each push's key expired at least once);
    - ExpiredTokenException answers: a push's odd-numbered keys (1 h lifetime) end only by expiring on the server,
      so the server must have answered it at least sum over pushes of (ceil(calls / 2) - 1) times, and at least as
      many times as there are pushes."""
    base = json.loads(faults_json)
    base_latency, expire_after = base["addedLatencyMilliseconds"], base["expiredTokenAfterRequests"]
    plan = schedule(seconds, period, base_latency)
    spikes = [e for e in plan if e[1] == "spike" and e[2] != base_latency]
    reshards = [e for e in plan if e[1] == "reshard"]
    summary = json.load(open(chaos_summary)) if os.path.exists(chaos_summary) else {"planned": 0, "applied": 0, "failed": ["no summary: the controller did not finish"]}
    stats = get(endpoint, "/_admin/stats")
    problems = []
    print(f"  fault controller: {summary['applied']} of {len(plan)} planned changes applied "
          f"({len(spikes)} spikes: {sum(1 for e in spikes if e[2] == 7000)} of 7 s, {sum(1 for e in spikes if e[2] == 1500)} of 1.5 s; "
          f"{len(reshards)} reshard rounds over {len(streams)} streams), {len(summary['failed'])} failed")
    if summary["failed"] or summary["applied"] != len(plan) or summary["planned"] != len(plan):
        problems.append(f"controller: {summary['applied']} of {len(plan)} changes applied; failed: {summary['failed']}")
    if not any(e[2] == 7000 for e in spikes) or not any(e[2] == 1500 for e in spikes) or not reshards:
        problems.append(f"a {seconds} s run with a {period} s period is too short for a spike of each length and a reshard")
    want_shards = 4 + sum(e[2] for e in reshards)
    want_open = reshards[-1][2] if reshards else 4
    for stream in streams:
        s = stats["streams"][stream]
        print(f"  {stream}: {len(s['shards'])} shards ({s['openShards']} open) after the reshards; want {want_shards} ({want_open} open)")
        if len(s["shards"]) != want_shards or s["openShards"] != want_open:
            problems.append(f"{stream} has {len(s['shards'])} shards ({s['openShards']} open), want {want_shards} ({want_open} open)")
    calls = Counter(line.split()[1] for line in open(credentials_log)) if os.path.exists(credentials_log) else Counter()
    limit = int(expire_after)
    served = stats["requests"] - stats["expiredTokens"]
    want_calls = max(2 * len(streams), -(-served // limit))
    want_expired = max(len(streams), sum(-(-n // 2) - 1 for n in calls.values()))
    print(f"  credentials: {sum(calls.values())} credential_process calls over {len(calls)} push processes "
          f"({', '.join(str(n) for n in calls.values())}), each a new access key; want >= {want_calls} "
          f"({served} requests served, at most {limit} per key; 2 per push at least)")
    print(f"  KinesisLocal answered ExpiredTokenException {stats['expiredTokens']} times; want >= {want_expired} "
          f"(each push's 1-hour keys but its last; as many as there are pushes at least)")
    if len(calls) != len(streams):
        problems.append(f"credential_process called by {len(calls)} push processes, want {len(streams)}")
    if sum(calls.values()) < want_calls:
        problems.append(f"{sum(calls.values())} credential_process calls, want >= {want_calls}")
    if stats["expiredTokens"] < want_expired:
        problems.append(f"{stats['expiredTokens']} ExpiredTokenException answers, want >= {want_expired}")
    print(("  ok   faults applied" if not problems else "  FAIL faults applied: " + "; ".join(problems)))
    sys.exit(1 if problems else 0)


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


def stats_watch(endpoint, stream, seconds, out_path):
    """The stream's accepted and throttled counts every second for `seconds`: lines of 'seconds accepted throttled'."""
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        while (t := time.monotonic() - t0) < float(seconds):
            try:
                s = get(endpoint, "/_admin/stats")["streams"][stream]
            except OSError as error:  # a slow answer on a loaded machine: that second has no sample
                print(f"stats watch: no sample at {t:.1f} s ({error})", file=sys.stderr)
                time.sleep(1)
                continue
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
    window = [r for r in rows if r[0] >= float(warmup)][:-1]
    if len(window) < 2:
        window = rows
    if len(window) < 2 or window[-1][0] <= window[0][0]:
        print(f"FAIL many producers: {len(rows)} stats samples, too few to measure a rate (a loaded machine answered /_admin/stats too slowly)")
        sys.exit(1)
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
        "faults-check": faults_check, "stats-watch": stats_watch, "many": many,
    }
    commands[sys.argv[1]](*sys.argv[2:])
