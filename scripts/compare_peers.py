"""Peer comparison behind scripts/compare-peers.sh: KinesisPusher against boto3, aws-sdk-go-v2, aiokpl and async-kinesis,
and KinesisPusher's command line on the paths users run.

Every measurement gets its own `kinesis-pusher local` process with a fresh 4-shard stream. Four sections, one run:

- **peers**: each contender pushes the same generated records (100-byte or 1 KiB, 1000 partition keys round-robin;
  `kinesis-pusher push` reads them from a file, one line each, with its own random keys), with and without
  aggregation where it has it, to a server without limits (`--no-shard-limits`), and reports its CPU seconds and
  wall time from the first record until every record is acknowledged (`push`: its whole process, start-up and
  file reading included). Delivery is checked on the server, not taken from the contender: `GET /_admin/stats`
  (accepted Kinesis records) and, for aggregated runs, `GET /_admin/records?deaggregate=true` (user records, and
  those the KCL would drop).
- **paced**: the same file pushed with `push --async` and the default client-side limiter into a server that
  enforces the per-shard limits (plain `kinesis-pusher local`): CPU per record against the unpaced push above,
  PutRecords calls (the push's count and the server's count of every request) and records/s.
- **faults**: a server without limits injecting the fault matrix of issue 13 (20 % of records throttled, 5 %
  InternalFailure, 2 % of requests HTTP 500, 1 % dropped connections); `push` with default settings in sync and
  async mode, and the Go re-creation of the seed's runner (Benchmarks/go-peers/seedrunner) as the baseline:
  records/s delivered, and every record read back from the server to count the lost and the duplicated.
- **targets**: each of issue 13's targets checked against the run's own baselines, met or missed with the gap.

On 2 or more CPUs the contender runs pinned to CPU 0 and its server to CPU 1 (`--no-pin` turns that off). Writes
docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png.
"""

import argparse
import base64
import datetime
import functools
import importlib.metadata
import json
import os
import platform
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STREAM = "bench"
SIZES = (100, 1024)
GO_SDK_PACKAGE = "golang-github-aws-aws-sdk-go-v2-dev"
# Issue 13's fault matrix, as `kinesis-pusher local` flags (KinesisLocal.Faults: recordThrottleRate,
# recordInternalFailureRate, requestInternalErrorRate, dropConnectionRate), with a fixed seed.
FAULTS = {"--throttle-records": "0.2", "--fail-records": "0.05", "--fail-requests": "0.02", "--drop-connections": "0.01",
          "--seed": "13"}
STREAM_LIMIT = 4 * 1000  # records/s a 4-shard stream takes
# The push's environment: a region and placeholder credentials, so it looks nothing up and prints no notes.
PUSH_ENV = {**os.environ, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true"}


class Contender:
    """One row kind of the peers table. kind: "bench" (`kinesis-pusher bench producer`), "push" (`kinesis-pusher push`
    from a file), "python" (scripts/peer_producers.py) or "go" (a binary of Benchmarks/go-peers)."""

    def __init__(self, name, records, aggregation, kind, package=None, note=""):
        self.name, self.records, self.aggregation, self.kind, self.package, self.note = (
            name, records, aggregation, kind, package, note)

    def version(self, args):
        """The version measured, or None when the contender is not available here (see unavailable())."""
        if self.kind in ("bench", "push"):
            return git_version()
        if self.kind == "go":
            return go_version(args.go_bin, self.package)
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None

    def unavailable(self, args):
        if self.kind == "go":
            return f"not built ({go_unavailable(args.go_bin)})"
        return f"not installed ({self.package} is missing from the venv)"

    def command(self, args, endpoint, server_pid, size, aggregate, records):
        if self.kind == "bench":
            command = [args.bin, "bench", "producer", "--endpoint", endpoint, "--stream", STREAM, "--records", str(records),
                       "--size", str(size), "--sink-pid", str(server_pid), "--json"]
            return command + (["--aggregate"] if aggregate else [])
        if self.kind == "push":
            command = push_command(args, endpoint, input_file(args, size, records), "--async", "--no-rate-limit")
            return command + (["--aggregate"] if aggregate else [])
        if self.kind == "go":
            return [os.path.join(args.go_bin, self.package), "--endpoint", endpoint, "--stream", STREAM,
                    "--records", str(records), "--size", str(size)]
        command = [sys.executable, os.path.join(HERE, "peer_producers.py"), self.name, "--endpoint", endpoint,
                   "--stream", STREAM, "--records", str(records), "--size", str(size)]
        return command + (["--aggregate"] if aggregate else [])


def contenders(quick):
    scale = 10 if quick else 1
    return [
        Contender("kinesis-pusher", 200_000 // scale, True, "bench",
                  note="`kinesis-pusher bench producer --endpoint URL --sink-pid PID [--aggregate]`: the Runner, async, "
                       "no rate limit, up to 10 PutRecords calls in flight, aggregates ≤ 50 KiB; push delay sampled "
                       "from its metrics"),
        Contender("kinesis-pusher push", 200_000 // scale, True, "push",
                  note="`kinesis-pusher push --async --no-rate-limit [--aggregate] FILE`: the command line reading a file "
                       "of unique lines (`rec-NNNNNNNNN-aaa…`, 100 or 1024 bytes each), a random partition key per "
                       "record (its default); CPU of its whole process, start-up and file reading included (the "
                       "start-up alone is measured below)"),
        Contender("boto3", 100_000 // scale, False, "python", "boto3",
                  note="`put_records` loop of 500-record batches, resending failed entries"),
        Contender("aws-sdk-go-v2", 200_000 // scale, False, "go", "putrecords",
                  note="`PutRecords` loop of 500-record batches, resending failed entries, one call at a time, the "
                       "SDK's default retryer (Benchmarks/go-peers/putrecords, built offline from Debian's "
                       f"`golang-go` and `{GO_SDK_PACKAGE}`)"),
        Contender("aiokpl", 20_000 // scale, True, "python", "aiokpl",
                  note="`Producer.put_record`, awaiting every outcome; per-shard rate limits raised to 1e12/s, other settings "
                       "default (aggregates ≤ 50 KiB, 100 ms buffering deadline)"),
        Contender("async-kinesis", 100_000 // scale, True, "python", "async-kinesis",
                  note="`Producer.put` with StringProcessor, or KPLStringProcessor (aws-kinesis-agg, aggregates ≤ 1 MiB, "
                       "every user record under key `a`) aggregated; its throttlers (1000 items/s and 1 MiB/s for the "
                       "stream by default) set to no limit"),
    ]


@functools.cache
def git_version():
    """The commit the work tree stood on when the run began (the binary is built from the work tree)."""
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@functools.cache
def go_version(go_bin, program):
    """The SDK and Go versions a Go contender was built with (Debian's package version added), or None if not built."""
    try:
        built = subprocess.run([os.path.join(go_bin, program), "--version"], capture_output=True, text=True,
                               check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    try:
        debian = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", GO_SDK_PACKAGE], capture_output=True,
                                text=True, check=True).stdout.strip()
        return built.replace("aws-sdk-go-v2 ", f"aws-sdk-go-v2 (Debian {debian}) ", 1)
    except (OSError, subprocess.CalledProcessError):
        return built


def go_unavailable(go_bin):
    """Why the Go contenders are missing: what scripts/compare-peers.sh wrote when it could not build them."""
    try:
        with open(os.path.join(go_bin, "unavailable.txt")) as reason:
            return reason.read().strip() or "no reason given"
    except OSError:
        return f"no binaries in {go_bin}: run scripts/compare-peers.sh, which builds them"


def push_command(args, endpoint, path, *options):
    return [args.bin, "push", "--stream", STREAM, "--endpoint", endpoint, "--report", "json", *options, path]


def line_data(index, size):
    """Record `index`'s data: `rec-NNNNNNNNN-` padded with `a` to `size` bytes (Benchmarks/go-peers' UniqueData too)."""
    return f"rec-{index:09d}-".ljust(size, "a")[:size]


def input_file(args, size, records):
    """A file of `records` unique lines of `size` bytes (the newline not counted), written once per run."""
    path = os.path.join(args.work_dir, f"lines-{size}-{records}.txt")
    if not os.path.exists(path):
        with open(path + ".part", "w") as out:
            for start in range(0, records, 10_000):
                out.write("".join(line_data(index, size) + "\n" for index in range(start, min(records, start + 10_000))))
        os.rename(path + ".part", path)
    return path


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "load_average": load_average(), "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "kernel": platform.release()}


def load_average():
    """The 1-minute load average: other work on the machine slows wall times (CPU per record much less)."""
    try:
        with open("/proc/loadavg") as loadavg:
            return float(loadavg.read().split()[0])
    except (OSError, ValueError):
        return None


def process_cpu_seconds(pid):
    """utime + stime of a process from /proc/PID/stat, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# With --pin (the default on 2 or more CPUs with taskset), every contender runs on CPU 0 and its server on CPU 1: the
# contender's records per CPU-second are then its records per second on one core, and contenders that spread over
# threads (spinning, handing work between threads) are measured on the same footing as single-threaded ones.
PIN = {"on": False}


def pinned(command, cpu):
    return ["taskset", "-c", str(cpu)] + command if PIN["on"] else command


class Server:
    """One `kinesis-pusher local` process with a 4-shard stream on a free loopback port: limits off unless `limits`,
    and `faults` (local's flags) injected."""

    def __init__(self, binary, limits=False, faults=None):
        self.admin_token = secrets.token_hex(16)  # /_admin wants it as a bearer token
        command = [binary, "local", "--port", "0", "--stream", f"{STREAM}:4", "--admin-token", self.admin_token]
        command += [] if limits else ["--no-shard-limits"]
        for flag, value in (faults or {}).items():
            command += [flag, value]
        self.process = subprocess.Popen(pinned(command, 1), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        line = self.process.stdout.readline() if ready else ""
        if "http://" not in line:
            self.stop()
            raise RuntimeError(f"kinesis-pusher local did not start: {line!r}")
        self.endpoint = line[line.index("http://"):].split()[0]

    def get(self, path):
        request = urllib.request.Request(self.endpoint + path, headers={"Authorization": "Bearer " + self.admin_token})
        return urllib.request.urlopen(request, timeout=120)

    def stats(self):
        with self.get("/_admin/stats") as answer:
            return json.load(answer)

    def accepted(self):
        return self.stats()["streams"][STREAM]["accepted"]

    def user_records(self, size):
        """User records stored once deaggregated: (all, dropped by the KCL, of the wrong size)."""
        total = dropped = wrong = 0
        with self.get(f"/_admin/records?stream={STREAM}&deaggregate=true") as answer:
            for line in answer:  # streamed: a 1 KiB run's read-back is hundreds of MB
                if not line.strip():
                    continue
                record = json.loads(line)
                total += 1
                dropped += record["droppedByKCL"]
                wrong += len(record["data"]) != 4 * ((size + 2) // 3)  # base64 of `size` bytes
        return total, dropped, wrong

    def read_back(self, records, size):
        """Every stored record's data against the `records` lines expected (line_data): (distinct expected records
        found, stored records beyond one per expected record, stored records that are none of them)."""
        expected = {line_data(index, size).encode() for index in range(records)}
        seen, stored, strangers = set(), 0, 0
        with self.get(f"/_admin/records?stream={STREAM}") as answer:
            for line in answer:
                if not line.strip():
                    continue
                data = base64.b64decode(json.loads(line)["data"])
                stored += 1
                if data in expected:
                    seen.add(data)
                else:
                    strangers += 1
        return len(seen), stored - len(seen) - strangers, strangers

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def failure_reason(stderr):
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    if "ModuleNotFoundError" in stderr or "ImportError" in stderr:
        return f"not installed ({last})"
    if "Could not connect" in stderr or "ConnectionRefused" in stderr or "EndpointConnectionError" in stderr:
        return f"cannot reach the endpoint ({last})"
    return f"failed: {last[:200]}"


def measure_once(args, contender, size, aggregate):
    """One run against a fresh server; returns a result dict, or one with "error"."""
    records = contender.records
    server = Server(args.bin)
    try:
        command = contender.command(args, server.endpoint, server.process.pid, size, aggregate, records)
        sink_before = process_cpu_seconds(server.process.pid)
        children_before, wall_before = children_cpu_seconds(), time.monotonic()
        try:
            run = subprocess.run(pinned(command, 0), capture_output=True, text=True, timeout=args.timeout, env=PUSH_ENV)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {args.timeout} s"}
        whole_process_cpu, whole_process_wall = children_cpu_seconds() - children_before, time.monotonic() - wall_before
        sink_cpu = process_cpu_seconds(server.process.pid) - sink_before
        try:
            reported = json.loads(run.stdout)
        except json.JSONDecodeError:
            return {"error": failure_reason(run.stderr or run.stdout)}
        accepted = server.accepted()
        if aggregate:
            delivered, kcl_dropped, wrong_size = server.user_records(size)
        else:
            delivered, kcl_dropped, wrong_size = accepted, 0, 0
    finally:
        server.stop()
    # `push` reports no CPU of its own: its whole process is counted, start-up and reading the file included.
    cpu = reported["cpu_s"] if "cpu_s" in reported else whole_process_cpu
    elapsed = reported["elapsed_s"]
    return {
        "records": records, "delivered": delivered, "kinesis_records": accepted, "kcl_dropped": kcl_dropped,
        "wrong_size": wrong_size, "lost": max(0, records - delivered), "duplicates": max(0, delivered - records),
        "claimed_delivered": reported.get("claimed_delivered", reported.get("delivered")),
        "elapsed_s": elapsed, "cpu_s": cpu, "whole_process_cpu_s": whole_process_cpu, "whole_process_wall_s": whole_process_wall, "sink_cpu_s": sink_cpu,
        "cpu_scope": "whole process" if "cpu_s" not in reported else "first record to last acknowledgement",
        "records_per_s": records / elapsed, "mb_per_s": records * size / elapsed / 1e6,
        "cpu_us_per_record": cpu / records * 1e6, "records_per_cpu_s": records / cpu,
        "sink_cpu_share": sink_cpu / (sink_cpu + cpu) if sink_cpu + cpu > 0 else None,
        "peak_rss_mib": reported.get("peak_rss_mib"),
        "push_delay_p50_ms": reported.get("push_delay_p50_ms"), "push_delay_p99_ms": reported.get("push_delay_p99_ms"),
        "requests": reported.get("requests"),
    }


def median_run(runs):
    """The run with the median CPU per record; delivery problems of any round are kept."""
    runs = sorted(runs, key=lambda run: run["cpu_us_per_record"])
    chosen = dict(runs[len(runs) // 2])
    for key in ("lost", "duplicates", "kcl_dropped", "wrong_size", "strangers"):
        if key in chosen:
            chosen[key] = max(run[key] for run in runs)
    chosen["rounds_cpu_us_per_record"] = [round(run["cpu_us_per_record"], 3) for run in runs]
    return chosen


def measure(args, contender, size, aggregate):
    """The run with the median CPU per record over --rounds; delivery problems of any round are kept."""
    runs = []
    for _ in range(args.rounds):
        result = measure_once(args, contender, size, aggregate)
        if "error" in result:
            return result
        runs.append(result)
    return median_run(runs)


def push_startup_cpu(args):
    """CPU of a `push` of an empty file, whole process (start-up, shard check, shutdown): the fixed cost inside the
    push rows' CPU. Median of 3."""
    path = os.path.join(args.work_dir, "empty.txt")
    open(path, "w").close()
    samples = []
    for _ in range(3):
        server = Server(args.bin)
        try:
            before = children_cpu_seconds()
            run = subprocess.run(pinned(push_command(args, server.endpoint, path), 0), capture_output=True, text=True,
                                 timeout=60, env=PUSH_ENV)
            if run.returncode != 0:
                return None
            samples.append(children_cpu_seconds() - before)
        except subprocess.TimeoutExpired:
            return None
        finally:
            server.stop()
    return sorted(samples)[1]


def run_to_completion(command, timeout, grace):
    """Runs a contender; past `timeout` seconds it gets SIGTERM (push flushes and reports, as a user's Ctrl-C would),
    past `grace` more it is killed. Returns (stdout, stderr, exit status, timed out, whole-process CPU, wall s)."""
    before, wall = children_cpu_seconds(), time.monotonic()
    process = subprocess.Popen(pinned(command, 0), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=PUSH_ENV)
    timed_out = False
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
    return out, err, process.returncode, timed_out, children_cpu_seconds() - before, time.monotonic() - wall


def measure_delivery(args, server, command, records, size):
    """One run of a push-like command against `server` with everything read back: records/s delivered, lost,
    duplicated, CPU and requests on both sides."""
    requests_before = server.stats()["requests"]
    out, err, status, timed_out, cpu, wall = run_to_completion(command, args.delivery_timeout, 60)
    try:
        reported = json.loads(out)
    except json.JSONDecodeError:
        reported = None
    stats = server.stats()
    found, duplicates, strangers = server.read_back(records, size)
    if reported is None and found == 0:
        return {"error": failure_reason(err or out)}
    reported = reported or {}
    elapsed = reported.get("elapsed_s") or wall
    return {
        "records": records, "delivered": found, "lost": records - found, "duplicates": duplicates, "strangers": strangers,
        "kinesis_records": stats["streams"][STREAM]["accepted"], "server_throttled": stats["streams"][STREAM]["throttled"],
        "server_requests": stats["requests"] - requests_before, "client_requests": reported.get("requests"),
        "claimed_delivered": reported.get("delivered", reported.get("claimed_delivered")),
        "retries": reported.get("retries"), "throttled": reported.get("throttled"), "recovered": reported.get("recovered"),
        "failed_attempts": reported.get("failed_attempts"), "exit_status": status, "timed_out": timed_out,
        "elapsed_s": elapsed, "whole_process_wall_s": wall, "cpu_s": cpu, "cpu_scope": "whole process",
        "records_per_s": found / elapsed if elapsed > 0 else None,
        "cpu_us_per_record": cpu / max(found, 1) * 1e6, "records_per_cpu_s": found / cpu if cpu > 0 else None,
        "stderr_tail": (err or "").strip().splitlines()[-1:] or None,
    }


def paced_rows(args):
    """`push --async` (default limiter) of the unpaced push's 100-byte file into a server with the per-shard limits on."""
    records = args.paced_records
    command = lambda endpoint: push_command(args, endpoint, input_file(args, 100, records), "--async")
    runs = []
    for _ in range(args.paced_rounds):
        server = Server(args.bin, limits=True)
        try:
            row = measure_delivery(args, server, command(server.endpoint), records, 100)
        finally:
            server.stop()
        if "error" in row:
            runs = [row]
            break
        runs.append(row)
    row = runs[0] if "error" in runs[0] else median_run(runs)
    row.update(section="paced", contender="kinesis-pusher push", mode="async, paced", version=git_version(), size=100,
               aggregate=False, command="kinesis-pusher push --async FILE → kinesis-pusher local (per-shard limits on)")
    return [row]


def fault_rows(args):
    """The fault matrix: push (default settings) sync and async, and the Go seed runner sync and async."""
    records = args.fault_records
    path = input_file(args, 100, records)
    seed = os.path.join(args.go_bin, "seedrunner")
    seed_command = lambda endpoint: [seed, "--endpoint", endpoint, "--stream", STREAM, "--records", str(records),
                                     "--size", "100", "--timeout", f"{args.delivery_timeout}s"]
    cases = [
        ("kinesis-pusher push", "sync", git_version(), lambda endpoint: push_command(args, endpoint, path),
         "kinesis-pusher push FILE"),
        ("kinesis-pusher push", "async", git_version(), lambda endpoint: push_command(args, endpoint, path, "--async"),
         "kinesis-pusher push --async FILE"),
        ("Go seed runner", "sync", go_version(args.go_bin, "seedrunner"), seed_command,
         "seedrunner (Benchmarks/go-peers): channel of 1000, fixed pace of 1000 records/s per open shard"),
        ("Go seed runner", "async", go_version(args.go_bin, "seedrunner"), lambda endpoint: seed_command(endpoint) + ["--async"],
         "seedrunner --async: up to 10 calls in flight"),
    ]
    rows = []
    for name, mode, version, command, description in cases:
        if version is None:
            row = {"error": f"not built ({go_unavailable(args.go_bin)})"}
        else:
            server = Server(args.bin, faults=FAULTS)
            try:
                row = measure_delivery(args, server, command(server.endpoint), records, 100)
            finally:
                server.stop()
        row.update(section="faults", contender=name, mode=mode, version=version, size=100, aggregate=False,
                   command=description)
        row.setdefault("records", records)
        rows.append(row)
        print_row(row)
    return rows


def case_label(size, aggregate):
    return f"{'1 KiB' if size == 1024 else f'{size} B'}, {'aggregated' if aggregate else 'not aggregated'}"


def section(row):
    return row.get("section", "peers")


def find(results, name, size, aggregate, where="peers", mode=None):
    for row in results:
        if (section(row) == where and row["contender"] == name and row["size"] == size and row["aggregate"] == aggregate
                and (mode is None or row.get("mode") == mode) and "error" not in row):
            return row
    return None


def ratio(row, baseline):
    if row is None or baseline is None or "error" in row:
        return None
    return row["records_per_cpu_s"] / baseline["records_per_cpu_s"]


def fmt(value, pattern="{:,.0f}"):
    return "—" if value is None else pattern.format(value)


def times(value):
    if value is None:
        return "—"
    return f"{value:.0f}×" if value >= 10 else f"{value:.1f}×" if value >= 1 else f"{value:.2f}×"


def delivery(row):
    parts = [f"{row['delivered']:,}/{row['records']:,}"]
    if row["lost"]:
        parts.append(f"**{row['lost']:,} LOST**" if not row.get("timed_out") else
                     f"**{row['lost']:,} not delivered when stopped**")
    if row["duplicates"]:
        parts.append(f"**{row['duplicates']:,} duplicates**")
    if row.get("kcl_dropped"):
        parts.append(f"**{row['kcl_dropped']:,} in aggregates the KCL drops**")
    if row.get("wrong_size"):
        parts.append(f"**{row['wrong_size']:,} of the wrong size**")
    if row.get("strangers"):
        parts.append(f"**{row['strangers']:,} stored records that were never sent**")
    return ", ".join(parts) if len(parts) > 1 else parts[0] + " ok"


def print_row(row):
    label = f"{row['contender']:20} {row.get('mode') or case_label(row['size'], row['aggregate']):26}"
    if "error" in row:
        print(f"{label} {row['error']}", flush=True)
        return
    print(f"{label} {row['cpu_us_per_record']:9.2f} CPU-µs/record {fmt(row['records_per_cpu_s']):>12} records/CPU-s "
          f"{fmt(row['records_per_s']):>10} records/s  {delivery(row)}", flush=True)


def verdict(value, goal, at_most=False):
    """met / missed with the gap, for a value that must reach `goal` (or stay at or below it with at_most)."""
    if value is None:
        return "not measured"
    if (value <= goal) if at_most else (value >= goal):
        return "**met**"
    return (f"**missed** ({value / goal:.2f}× the bound)" if at_most else f"**missed** ({value / goal:.0%} of the target)")


def targets(results, startup_cpu_s=None):
    """Issue 13's targets, each against this run's own baselines: (target, measured, verdict, what it needs, ours now
    or the baseline). `startup_cpu_s`: a push's fixed CPU cost, shown beside the push rows' whole-process figure."""
    bench_raw = find(results, "kinesis-pusher", 100, False)
    bench_agg = find(results, "kinesis-pusher", 100, True)
    push_raw = find(results, "kinesis-pusher push", 100, False)
    boto3 = find(results, "boto3", 100, False)
    go_loop = find(results, "aws-sdk-go-v2", 100, False)
    aiokpl = find(results, "aiokpl", 100, True)
    paced = find(results, "kinesis-pusher push", 100, False, where="paced")
    us = lambda row: fmt(row and row["cpu_us_per_record"], "{:.2f} µs")

    def push_us(row):
        if row is None or not startup_cpu_s:
            return us(row)
        return f"{us(row)} ({(row['cpu_s'] - startup_cpu_s) / row['records'] * 1e6:.2f} µs without start-up)"

    def needs(baseline, factor):
        """The CPU-µs per record that would meet a records-per-CPU-second target against `baseline`."""
        return fmt(baseline["cpu_us_per_record"] / factor if baseline else None, "≤ {:.2f} µs")

    paced_ratio = (paced["cpu_us_per_record"] / push_raw["cpu_us_per_record"]) if paced and push_raw else None
    full_batches = -(-paced["records"] // 500) if paced else None
    rows = [
        ("Paced: CPU per record of `push --async` at a 4-shard stream's limit ≤ 1.25× the same push unpaced",
         times(paced_ratio), verdict(paced_ratio, 1.25, at_most=True),
         fmt(push_raw and 1.25 * push_raw["cpu_us_per_record"], "≤ {:.2f} µs"), us(paced)),
        (f"Paced: full batches (Deliver 1; the script's bound: ≤ 1.1 × records/500 = "
         f"{fmt(full_batches and 1.1 * full_batches)} PutRecords calls)",
         fmt(paced and paced.get("client_requests")),
         verdict(paced and paced.get("client_requests"), 1.1 * full_batches, at_most=True) if paced else "not measured",
         fmt(full_batches, "≈ {:,}"),
         fmt(paced and paced.get("client_requests") and paced["records"] / paced["client_requests"], "{:.0f} records/call")),
        ("Unpaced, 100 B: `push --async --no-rate-limit` from a file ≥ 10× boto3's records per CPU-second",
         times(ratio(push_raw, boto3)), verdict(ratio(push_raw, boto3), 10), needs(boto3, 10), push_us(push_raw)),
        ("Unpaced, 100 B: `push --async --no-rate-limit` from a file ≥ 4× the aws-sdk-go-v2 loop's records per CPU-second",
         times(ratio(push_raw, go_loop)), verdict(ratio(push_raw, go_loop), 4), needs(go_loop, 4), push_us(push_raw)),
        ("Unpaced, 100 B: `bench producer` ≤ 1.0 µs CPU per record", us(bench_raw),
         verdict(bench_raw and bench_raw["cpu_us_per_record"], 1.0, at_most=True), "≤ 1.00 µs", us(bench_raw)),
        ("Unpaced, 100 B: `bench producer` ≥ 10× boto3's records per CPU-second (issue 7)",
         times(ratio(bench_raw, boto3)), verdict(ratio(bench_raw, boto3), 10), needs(boto3, 10), us(bench_raw)),
        ("Aggregated, 100 B: `bench producer --aggregate` ≥ 100× aiokpl's records per CPU-second",
         times(ratio(bench_agg, aiokpl)), verdict(ratio(bench_agg, aiokpl), 100), needs(aiokpl, 100), us(bench_agg)),
        ("Aggregated, 100 B: ≥ 1,000,000 user records/s on one core (records per CPU-second)",
         fmt(bench_agg and bench_agg["records_per_cpu_s"]), verdict(bench_agg and bench_agg["records_per_cpu_s"], 1_000_000),
         "≤ 1.00 µs", us(bench_agg)),
    ]
    for mode in ("sync", "async"):
        row = find(results, "kinesis-pusher push", 100, False, where="faults", mode=mode)
        seed = find(results, "Go seed runner", 100, False, where="faults", mode=mode)
        rate = row and row["records_per_s"]
        lost = row and row["lost"]
        rows.append((f"Fault matrix, {mode}: `push` (default settings) ≥ 2,400 records/s delivered (60 % of the stream's "
                     "limit)", fmt(rate), verdict(rate, 2400), "≥ 2,400/s",
                     fmt(seed and seed["records_per_s"], "Go seed runner: {:,.0f}/s")))
        rows.append((f"Fault matrix, {mode}: 0 records lost (read back from the server)", fmt(lost),
                     "not measured" if row is None else "**met**" if lost == 0 else
                     f"**missed** ({lost:,} of {row['records']:,} not stored" + (", stopped at the timeout)" if row.get("timed_out") else ")"),
                     "0", fmt(row and row["duplicates"], "{:,} duplicates")))
    for name in ("One producer alone at the shard limits: < 5 % of attempts throttled",
                 "4 producers on one limited stream: ≥ 85 % of its limit at < 10 % throttled",
                 "Soak: 0 lost, 0 order violations, memory flat"):
        rows.append((name, "—", "not measured here (`scripts/soak.sh`)", "—", "—"))
    return rows


def sink_note(results):
    # Over the contender's whole process life: the sink's CPU is read around it.
    busy = [row["sink_cpu_s"] / row["whole_process_wall_s"] for row in results
            if "error" not in row and section(row) == "peers"]
    return f"; it was busy at most {max(busy):.0%} of a core in any row" if busy else ""


def write_markdown(path, results, info, contenders_list, args):
    startup = info.get("push_startup_cpu_s")
    lines = [
        "# Benchmarks: KinesisPusher against other producers, and the paths users run",
        "",
        f"Generated by `scripts/compare-peers.sh` on {info['date']}: {info['nproc']} cores (`nproc`), {info['cpu']}, "
        f"Linux {info['kernel']}, Python {info['python']}; median of {args.rounds} run(s) per row by CPU per record. "
        f"The machine is shared: load average {fmt(info['load_average'], '{:.1f}')} at the start and "
        f"{fmt(info['load_average_end'], '{:.1f}')} at the end, which slows wall times and records/s far more than "
        "CPU per record. Regenerate with `scripts/compare-peers.sh`."
        + (" Every contender ran pinned to CPU 0 and its server to CPU 1 (`taskset`), so a contender's records per "
           "CPU-second are also its records per second on one core." if info.get("pinned") else
           " Contenders and servers were not pinned to CPUs.")
        + (" **A `--quick` run** (a tenth of the records, one round): a smoke test of every row, not a measurement."
           if info.get("quick") else ""),
        "",
        "Each row pushes the same records — 100-byte or 1 KiB payloads, 1000 partition keys round-robin (async-kinesis "
        "aggregated takes no keys: its KPL processor puts every record under key `a`; `kinesis-pusher push` reads "
        "unique lines of the same size from a file and gives each a random key) — into its own "
        "`kinesis-pusher local --no-shard-limits` process (4 shards). **CPU** is the contender's own process "
        "(user + system, every thread) from the first record handed over until every record is acknowledged; "
        "client set-up and interpreter start are left out for every contender alike, except `kinesis-pusher push`, "
        "whose whole process is counted (start-up, shard check, reading the file, shutdown"
        + (f"; the start-up and shutdown alone, a push of an empty file, took {startup * 1000:.0f} ms of CPU" if startup else "")
        + "). **Delivered** is counted by "
        "the server (`GET /_admin/stats`; aggregated rows: user records read back with "
        "`GET /_admin/records?deaggregate=true`, which also flags aggregates the KCL would drop because their user "
        "records' keys hash outside the shard the aggregate landed on), not taken from the contender. **Sink share** "
        "is the server process's CPU (`/proc/PID/stat`) over the contender's plus the server's; the contender's CPU "
        "never includes it. The server runs one event-loop thread" + sink_note(results) + ".",
        "",
        "| contender | version | records | aggregation | delivered | wall s | records/s | MB/s | CPU s | CPU-µs/record | records per CPU-second | × boto3 | × aws-sdk-go-v2 | × aiokpl | sink share | peak RSS MiB |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in SIZES:
        for aggregate in (False, True):
            boto3 = find(results, "boto3", size, False)
            go_loop = find(results, "aws-sdk-go-v2", size, False)
            aiokpl = find(results, "aiokpl", size, aggregate)
            for contender in contenders_list:
                row = next((r for r in results if section(r) == "peers" and r["contender"] == contender.name
                            and r["size"] == size and r["aggregate"] == aggregate), None)
                if row is None:
                    continue
                version = row.get("version") or "not installed"
                head = f"| {contender.name} | {version} | {row.get('records', contender.records):,} × {'1 KiB' if size == 1024 else f'{size} B'} | {'on' if aggregate else 'off'} |"
                if "error" in row:
                    lines.append(f"{head} {row['error']} |" + " — |" * 11)
                    continue
                lines.append(
                    f"{head} {delivery(row)} | {row['elapsed_s']:.2f} | {fmt(row['records_per_s'])} | "
                    f"{row['mb_per_s']:.1f} | {row['cpu_s']:.2f} | {row['cpu_us_per_record']:.2f} | "
                    f"{fmt(row['records_per_cpu_s'])} | {times(ratio(row, boto3))} | {times(ratio(row, go_loop))} | "
                    f"{times(ratio(row, aiokpl))} | {fmt(row['sink_cpu_share'], '{:.0%}')} | "
                    f"{fmt(row.get('peak_rss_mib'), '{:.0f}')} |")
    lines += ["", "Ratios compare records per CPU-second with the same record size (× aiokpl: the same aggregation "
              "setting; × boto3 and × aws-sdk-go-v2: their unaggregated rows). Rows that say why they have no numbers "
              "could not be run here."]
    lines += paced_markdown(results) + faults_markdown(results)
    lines += ["", "## Targets (issue 13)", "",
              "Each against this run's own baselines.", "",
              "| target | measured | verdict | it needs | ours now, or the baseline |", "|---|---:|---|---:|---:|"]
    lines += [f"| {' | '.join(cells)} |" for cells in targets(results, info.get("push_startup_cpu_s"))]
    ours = [row for row in results if section(row) == "peers" and row["contender"] == "kinesis-pusher" and "error" not in row]
    if ours:
        lines += ["", "KinesisPusher's push delay (one PutRecords call, from the runner's metrics) in these runs: " + "; ".join(
            f"{case_label(row['size'], row['aggregate'])} p50 {fmt(row['push_delay_p50_ms'], '{:.1f}')} ms, "
            f"p99 {fmt(row['push_delay_p99_ms'], '{:.1f}')} ms" for row in ours) + "."]
    lines += ["", "## Contenders", ""]
    for contender in contenders_list:
        version = next((row["version"] for row in results if row["contender"] == contender.name and row.get("version")), None)
        lines.append(f"- **{contender.name}** {version or '(not installed)'}: {contender.note}.")
    seed_version = next((row["version"] for row in results if row["contender"] == "Go seed runner" and row.get("version")), None)
    lines.append(f"- **Go seed runner** {seed_version or '(not built)'}: Benchmarks/go-peers/seedrunner, a clean-room "
                 "re-creation of the seed's runner from its README (a bounded channel of 1000 records, batches of up to "
                 "500, a fixed pace of 1000 records/s per open shard with one second of burst, sync or async with up to "
                 "10 calls in flight, failed records sent again first in the next batch, the SDK's default retryer "
                 "underneath). The fault rows' baseline.")
    deps = []
    for package in ("botocore", "aiobotocore", "aiohttp", "aws-kinesis-agg"):
        try:
            deps.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            deps.append(f"{package} not installed")
    lines += [f"- Under them: {', '.join(deps)}.", "", "![records per CPU-second, log scale](benchmarks.png)", ""]
    with open(path, "w") as out:
        out.write("\n".join(lines))


def paced_markdown(results):
    rows = [row for row in results if section(row) == "paced"]
    if not rows:
        return []
    unpaced = find(results, "kinesis-pusher push", 100, False)
    lines = ["", "## Paced push", "",
             "`kinesis-pusher push --async FILE` with the default client-side limiter (100 % of 1000 records/s and "
             "1 MiB/s per shard) into plain `kinesis-pusher local` (per-shard limits on, 4 shards: 4,000 records/s), "
             "the same file of 100-byte lines as the unpaced `push` row above; median of its rounds by CPU per record. "
             "CPU is the whole process. **PutRecords calls** are the push's own count; **server requests** are every "
             "request the server answered during the push (PutRecords plus the push's DescribeStreamSummary and "
             "ListShards calls). Delivery: every stored record read back and matched against the file's lines.", "",
             "| run | records | delivered | wall s | records/s | CPU s | CPU-µs/record | × unpaced CPU-µs/record | "
             "PutRecords calls | records per call | server requests | throttled (client) | throttled (server) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['mode']} | {row['records']:,} | {row['error']} |" + " — |" * 10)
            continue
        against = row["cpu_us_per_record"] / unpaced["cpu_us_per_record"] if unpaced else None
        per_call = row["records"] / row["client_requests"] if row.get("client_requests") else None
        lines.append(
            f"| {row['mode']} | {row['records']:,} | {delivery(row)} | {row['elapsed_s']:.1f} | {fmt(row['records_per_s'])} | "
            f"{row['cpu_s']:.2f} | {row['cpu_us_per_record']:.2f} | {times(against)} | {fmt(row.get('client_requests'))} | "
            f"{fmt(per_call)} | {fmt(row['server_requests'])} | {fmt(row.get('throttled'))} | {fmt(row['server_throttled'])} |")
    if unpaced:
        lines += ["", f"Unpaced (the `push` row above): {unpaced['cpu_us_per_record']:.2f} CPU-µs/record, "
                  f"{fmt(unpaced.get('requests'))} PutRecords calls for {unpaced['records']:,} records."]
    return lines


def faults_markdown(results):
    rows = [row for row in results if section(row) == "faults"]
    if not rows:
        return []
    flags = " ".join(f"{flag} {value}" for flag, value in FAULTS.items())
    lines = ["", "## Fault matrix", "",
             f"`kinesis-pusher local {flags}`, no per-shard limits, 4 shards: 20 % of records throttled, 5 % "
             "InternalFailure, 2 % of requests HTTP 500, 1 % of connections dropped unanswered. `push` with default "
             "settings (client-side limiter on), sync and `--async`, against the Go seed runner. **Records/s** are "
             "records read back from the server (distinct, matched against the input) over the contender's own "
             "elapsed time; the stream takes 4,000/s. A run still going after the timeout gets SIGTERM (push flushes "
             "and reports), and its undelivered records are counted as not delivered. CPU is the whole process.", "",
             "| contender | mode | version | records | delivered (read back) | wall s | records/s delivered | % of 4,000/s | "
             "PutRecords calls | server requests | retries / failed attempts | CPU s | CPU-µs/record |",
             "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        head = f"| {row['contender']} | {row['mode']} | {row.get('version') or '—'} | {row['records']:,} |"
        if "error" in row:
            lines.append(f"{head} {row['error']} |" + " — |" * 8)
            continue
        retries = row.get("retries") if row.get("retries") is not None else row.get("failed_attempts")
        lines.append(
            f"{head} {delivery(row)} | {row['elapsed_s']:.1f} | {fmt(row['records_per_s'])} | "
            f"{fmt(row['records_per_s'] and row['records_per_s'] / STREAM_LIMIT, '{:.0%}')} | "
            f"{fmt(row.get('client_requests'))} | {fmt(row['server_requests'])} | {fmt(retries)} | {row['cpu_s']:.2f} | "
            f"{row['cpu_us_per_record']:.1f} |")
    return lines


def write_chart(path, results, contenders_list):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart", file=sys.stderr)
        return
    cases = [(size, aggregate) for size in SIZES for aggregate in (False, True)]
    width = 0.8 / len(contenders_list)
    figure, (axes, side) = plt.subplots(1, 2, figsize=(15, 5.5), dpi=110, gridspec_kw={"width_ratios": [3, 1]})
    for index, contender in enumerate(contenders_list):
        xs, ys, hatches = [], [], []
        for position, (size, aggregate) in enumerate(cases):
            row = find(results, contender.name, size, aggregate)
            x = position - 0.4 + width * (index + 0.5)
            if row is None:
                if contender.aggregation or not aggregate:
                    axes.text(x, 1.2e3, "n/a", ha="center", va="bottom", fontsize=8, rotation=90)
                continue
            xs.append(x)
            ys.append(row["records_per_cpu_s"])
            label = f"{row['records_per_cpu_s'] / 1e3:,.0f}k" if row["records_per_cpu_s"] >= 1e3 else f"{row['records_per_cpu_s']:,.0f}"
            unread = row["lost"] + row["kcl_dropped"] + row["wrong_size"]
            if row["lost"]:
                label += f"\n{row['lost'] / row['records']:.0%} lost"
            if row["kcl_dropped"]:
                label += f"\n{row['kcl_dropped'] / row['records']:.0%} dropped\nby the KCL"
            axes.text(x, row["records_per_cpu_s"] * 1.08, label, ha="center", va="bottom", fontsize=7)
            hatches.append("//" if unread else "")
        bars = axes.bar(xs, ys, width=width * 0.95, label=contender.name)
        for bar, hatch in zip(bars, hatches):
            bar.set_hatch(hatch)
    axes.set_yscale("log")
    axes.set_ylim(1e3, 1e7)
    axes.set_xticks(range(len(cases)))
    axes.set_xticklabels([case_label(size, aggregate) for size, aggregate in cases])
    axes.set_ylabel("user records per CPU-second (log scale)")
    axes.axhline(1e6, color="grey", linestyle="--", linewidth=0.8)
    axes.text(len(cases) - 0.5, 1.05e6, "1 M records/s on one core", ha="right", va="bottom", fontsize=8, color="grey")
    axes.set_title("Records per CPU-second (higher is better; each to its own kinesis-pusher local)", fontsize=10)
    axes.legend(loc="upper left", ncol=3, fontsize=8)
    axes.grid(axis="y", which="major", alpha=0.3)
    faults = [row for row in results if section(row) == "faults" and "error" not in row]
    labels = [f"{row['contender'].replace('kinesis-pusher ', '').replace(' runner', '')}\n{row['mode']}" for row in faults]
    rates = [row["records_per_s"] or 0 for row in faults]
    bars = side.bar(range(len(faults)), rates, color=["C1" if "push" in row["contender"] else "C7" for row in faults])
    for bar, row in zip(bars, faults):
        side.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 40, f"{row['records_per_s'] or 0:,.0f}"
                  + (f"\n{row['lost']:,} undelivered" if row["lost"] else ""), ha="center", va="bottom", fontsize=8)
    side.axhline(2400, color="grey", linestyle="--", linewidth=0.8)
    side.axhline(STREAM_LIMIT, color="grey", linestyle=":", linewidth=0.8)
    side.text(-0.4, 2450, "target 2,400/s", fontsize=8, color="grey")
    side.text(-0.4, STREAM_LIMIT + 50, "stream limit 4,000/s", fontsize=8, color="grey")
    side.set_xticks(range(len(faults)))
    side.set_xticklabels(labels, fontsize=8)
    side.set_ylim(0, STREAM_LIMIT * 1.2)
    side.set_ylabel("records/s delivered")
    side.set_title("Fault matrix (4 shards, no server limit)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", help="the release kinesis-pusher binary (required unless --report-only)")
    parser.add_argument("--go-bin", default=os.path.join(ROOT, ".build-go"),
                        help="where scripts/compare-peers.sh put the Go contenders (putrecords, seedrunner)")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"), help="where benchmarks.md/.json/.png go")
    parser.add_argument("--rounds", type=int, default=5, help="runs per peers row; the median by CPU per record is kept")
    parser.add_argument("--paced-rounds", type=int, default=3, help="runs of the paced push (each ~50 s); the median is kept")
    parser.add_argument("--fault-records", type=int, default=20_000, help="records each fault-matrix row pushes")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds one peers run may take (a pinned contender on a busy machine gets little of its CPU)")
    parser.add_argument("--delivery-timeout", type=int, default=300,
                        help="seconds a paced or fault-matrix run may take before it is stopped (SIGTERM)")
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the records, one round, fewer fault-matrix records: every row in a few minutes")
    parser.add_argument("--sections", default="peers,paced,faults",
                        help="comma-separated sections to measure (peers, paced, faults)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin contenders to CPU 0 and their servers to CPU 1 (pinned by default when possible)")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: write benchmarks.md and .png again from the --out folder's benchmarks.json")
    args = parser.parse_args()
    if args.quick:
        args.rounds = args.paced_rounds = 1
        args.fault_records = min(args.fault_records, 4_000)
        args.delivery_timeout = min(args.delivery_timeout, 120)
    contenders_list = contenders(args.quick)
    # The paced push sends the unpaced push row's file.
    args.paced_records = next(contender.records for contender in contenders_list if contender.kind == "push")
    json_path = os.path.join(args.out, "benchmarks.json")
    if args.report_only:
        with open(json_path) as saved:
            saved = json.load(saved)
        args.rounds = saved["rounds"]
        report(args, saved["results"], saved["machine"], contenders_list)
        return
    if not args.bin:
        parser.error("--bin is required")
    sections = set(args.sections.split(","))
    git_version()  # fixed now: others may commit while it runs
    info = machine()
    PIN["on"] = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    info["pinned"], info["quick"] = PIN["on"], args.quick
    info["faults"] = FAULTS
    results = []
    started = time.monotonic()
    args.work_dir = tempfile.mkdtemp(prefix="compare-peers-")
    try:
        if "peers" in sections:
            info["push_startup_cpu_s"] = push_startup_cpu(args)
            for size in SIZES:
                for aggregate in (False, True):
                    for contender in contenders_list:
                        if aggregate and not contender.aggregation:
                            continue
                        version = contender.version(args)
                        if version is None:
                            row = {"error": contender.unavailable(args)}
                        else:
                            row = measure(args, contender, size, aggregate)
                        row.update(section="peers", contender=contender.name, version=version, size=size, aggregate=aggregate)
                        row.setdefault("records", contender.records)
                        results.append(row)
                        print_row(row)
        if "paced" in sections:
            for row in paced_rows(args):
                results.append(row)
                print_row(row)
        if "faults" in sections:
            results += fault_rows(args)
    finally:
        shutil.rmtree(args.work_dir, ignore_errors=True)
    info["load_average_end"] = load_average()
    os.makedirs(args.out, exist_ok=True)
    with open(json_path, "w") as out:
        json.dump({"machine": info, "rounds": args.rounds, "results": results}, out, indent=1, sort_keys=True)
    report(args, results, info, contenders_list)
    print(f"measured in {time.monotonic() - started:.0f} s")


def report(args, results, info, contenders_list):
    write_markdown(os.path.join(args.out, "benchmarks.md"), results, info, contenders_list, args)
    write_chart(os.path.join(args.out, "benchmarks.png"), results, contenders_list)
    for name, value, verdict_text, *_ in targets(results, info.get("push_startup_cpu_s")):
        print(f"target: {name}: {value} → {verdict_text.replace('**', '')}")
    print(f"wrote {args.out}/benchmarks.md and .png (data: benchmarks.json)")


if __name__ == "__main__":
    main()
