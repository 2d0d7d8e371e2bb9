"""Peer comparison behind scripts/compare-peers.sh: KinesisPusher's Runner against boto3, aiokpl and async-kinesis.

Every measurement gets its own `kinesis-pusher local --no-shard-limits` process with a fresh 4-shard stream; the
contender pushes the same generated records (100-byte or 1 KiB, 1000 partition keys round-robin), with and without
aggregation where it has it, and reports its own CPU seconds and wall time from the first record until every record
is acknowledged. Delivery is checked on the server, not taken from the contender: `GET /_admin/stats` (accepted
Kinesis records) and, for aggregated runs, `GET /_admin/records?deaggregate=true` (user records, and those the KCL
would drop). On 2 or more CPUs the contender runs pinned to CPU 0 and its server to CPU 1 (`--no-pin` turns that
off). Writes docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png.
"""

import argparse
import datetime
import functools
import importlib.metadata
import json
import os
import platform
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STREAM = "bench"
SIZES = (100, 1024)


class Contender:
    def __init__(self, name, records, aggregation, package=None, note=""):
        self.name, self.records, self.aggregation, self.package, self.note = name, records, aggregation, package, note

    def version(self):
        if self.package is None:
            return git_version()
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None

    def command(self, args, endpoint, server_pid, size, aggregate, records):
        if self.package is None:
            command = [args.bin, "bench", "producer", "--endpoint", endpoint, "--stream", STREAM, "--records", str(records),
                       "--size", str(size), "--sink-pid", str(server_pid), "--json"]
            return command + (["--aggregate"] if aggregate else [])
        command = [sys.executable, os.path.join(HERE, "peer_producers.py"), self.name, "--endpoint", endpoint,
                   "--stream", STREAM, "--records", str(records), "--size", str(size)]
        return command + (["--aggregate"] if aggregate else [])


def contenders(quick):
    scale = 10 if quick else 1
    return [
        Contender("kinesis-pusher", 200_000 // scale, True,
                  note="`kinesis-pusher bench producer --endpoint URL --sink-pid PID [--aggregate]`: the Runner, async, "
                       "no rate limit, up to 10 PutRecords calls in flight, aggregates ≤ 50 KiB; push delay sampled "
                       "from its metrics"),
        Contender("boto3", 100_000 // scale, False, "boto3",
                  note="`put_records` loop of 500-record batches, resending failed entries"),
        Contender("aiokpl", 20_000 // scale, True, "aiokpl",
                  note="`Producer.put_record`, awaiting every outcome; per-shard rate limits raised to 1e12/s, other settings "
                       "default (aggregates ≤ 50 KiB, 100 ms buffering deadline)"),
        Contender("async-kinesis", 100_000 // scale, True, "async-kinesis",
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
    """One `kinesis-pusher local` process with a 4-shard stream, limits off, on a free loopback port."""

    def __init__(self, binary):
        self.process = subprocess.Popen(
            pinned([binary, "local", "--port", "0", "--stream", f"{STREAM}:4", "--no-shard-limits"], 1),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        line = self.process.stdout.readline() if ready else ""
        if "http://" not in line:
            self.stop()
            raise RuntimeError(f"kinesis-pusher local did not start: {line!r}")
        self.endpoint = line[line.index("http://"):].split()[0]

    def get(self, path):
        return urllib.request.urlopen(self.endpoint + path, timeout=120)

    def accepted(self):
        with self.get("/_admin/stats") as answer:
            return json.load(answer)["streams"][STREAM]["accepted"]

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
        sink_before = process_cpu_seconds(server.process.pid)
        children_before, wall_before = children_cpu_seconds(), time.monotonic()
        try:
            run = subprocess.run(pinned(contender.command(args, server.endpoint, server.process.pid, size, aggregate, records), 0),
                                 capture_output=True, text=True, timeout=args.timeout)
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
    cpu, elapsed = reported["cpu_s"], reported["elapsed_s"]
    return {
        "records": records, "delivered": delivered, "kinesis_records": accepted, "kcl_dropped": kcl_dropped,
        "wrong_size": wrong_size, "lost": max(0, records - delivered), "duplicates": max(0, delivered - records),
        "claimed_delivered": reported.get("claimed_delivered", reported.get("delivered")),
        "elapsed_s": elapsed, "cpu_s": cpu, "whole_process_cpu_s": whole_process_cpu, "whole_process_wall_s": whole_process_wall, "sink_cpu_s": sink_cpu,
        "records_per_s": records / elapsed, "mb_per_s": records * size / elapsed / 1e6,
        "cpu_us_per_record": cpu / records * 1e6, "records_per_cpu_s": records / cpu,
        "sink_cpu_share": sink_cpu / (sink_cpu + cpu) if sink_cpu + cpu > 0 else None,
        "peak_rss_mib": reported.get("peak_rss_mib"),
        "push_delay_p50_ms": reported.get("push_delay_p50_ms"), "push_delay_p99_ms": reported.get("push_delay_p99_ms"),
    }


def measure(args, contender, size, aggregate):
    """The run with the median CPU per record over --rounds; delivery problems of any round are kept."""
    runs = []
    for _ in range(args.rounds):
        result = measure_once(args, contender, size, aggregate)
        if "error" in result:
            return result
        runs.append(result)
    runs.sort(key=lambda run: run["cpu_us_per_record"])
    chosen = dict(runs[len(runs) // 2])
    for key in ("lost", "duplicates", "kcl_dropped", "wrong_size"):
        chosen[key] = max(run[key] for run in runs)
    chosen["rounds_cpu_us_per_record"] = [round(run["cpu_us_per_record"], 3) for run in runs]
    return chosen


def case_label(size, aggregate):
    return f"{'1 KiB' if size == 1024 else f'{size} B'}, {'aggregated' if aggregate else 'not aggregated'}"


def find(results, name, size, aggregate):
    for row in results:
        if row["contender"] == name and row["size"] == size and row["aggregate"] == aggregate and "error" not in row:
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
        parts.append(f"**{row['lost']:,} LOST**")
    if row["duplicates"]:
        parts.append(f"**{row['duplicates']:,} duplicates**")
    if row["kcl_dropped"]:
        parts.append(f"**{row['kcl_dropped']:,} in aggregates the KCL drops**")
    if row["wrong_size"]:
        parts.append(f"**{row['wrong_size']:,} of the wrong size**")
    return ", ".join(parts) if len(parts) > 1 else parts[0] + " ok"


def targets(results):
    ours_raw = find(results, "kinesis-pusher", 100, False)
    ours_agg = find(results, "kinesis-pusher", 100, True)
    boto3_ratio = ratio(ours_raw, find(results, "boto3", 100, False))
    aiokpl_ratio = ratio(ours_agg, find(results, "aiokpl", 100, True))
    per_core = ours_agg["records_per_cpu_s"] if ours_agg else None

    def verdict(value, goal):
        if value is None:
            return "not measured"
        return "**met**" if value >= goal else f"**missed** ({value / goal:.0%} of the target)"

    def needs(baseline, factor):
        """The CPU-µs per record that would meet the target, against what ours spends now."""
        return fmt(baseline["cpu_us_per_record"] / factor if baseline else None, "≤ {:.2f}")

    boto3, aiokpl = find(results, "boto3", 100, False), find(results, "aiokpl", 100, True)
    return [
        ("≥ 10× boto3's records per CPU-second, unaggregated (100 B)", times(boto3_ratio), verdict(boto3_ratio, 10),
         needs(boto3, 10), fmt(ours_raw and ours_raw["cpu_us_per_record"], "{:.2f}")),
        ("≥ 100× aiokpl's records per CPU-second, aggregation on (100 B)", times(aiokpl_ratio), verdict(aiokpl_ratio, 100),
         needs(aiokpl, 100), fmt(ours_agg and ours_agg["cpu_us_per_record"], "{:.2f}")),
        ("≥ 1,000,000 user records/s on one core, 100 B aggregated (records per CPU-second)", fmt(per_core),
         verdict(per_core, 1_000_000), "≤ 1.00", fmt(ours_agg and ours_agg["cpu_us_per_record"], "{:.2f}")),
    ]


def sink_note(results):
    # Over the contender's whole process life: the sink's CPU is read around it.
    busy = [row["sink_cpu_s"] / row["whole_process_wall_s"] for row in results if "error" not in row]
    return f"; it was busy at most {max(busy):.0%} of a core in any row" if busy else ""


def write_markdown(path, results, info, contenders_list, args):
    lines = [
        "# Benchmarks: KinesisPusher against other producers",
        "",
        f"Generated by `scripts/compare-peers.sh` on {info['date']}: {info['nproc']} cores (`nproc`), {info['cpu']}, "
        f"Linux {info['kernel']}, Python {info['python']}; median of {args.rounds} run(s) per row by CPU per record. "
        f"The machine is shared: load average {fmt(info['load_average'], '{:.1f}')} at the start and "
        f"{fmt(info['load_average_end'], '{:.1f}')} at the end, which slows wall times and records/s far more than "
        "CPU per record. Regenerate with `scripts/compare-peers.sh`."
        + (" Every contender ran pinned to CPU 0 and its server to CPU 1 (`taskset`), so a contender's records per "
           "CPU-second are also its records per second on one core." if info.get("pinned") else
           " Contenders and servers were not pinned to CPUs."),
        "",
        "Each row pushes the same records — 100-byte or 1 KiB payloads, 1000 partition keys round-robin (async-kinesis "
        "aggregated takes no keys: its KPL processor puts every record under key `a`) — into its own "
        "`kinesis-pusher local --no-shard-limits` process (4 shards). **CPU** is the contender's own process "
        "(user + system, every thread) from the first record handed over until every record is acknowledged; "
        "client set-up and interpreter start are left out for every contender alike. **Delivered** is counted by "
        "the server (`GET /_admin/stats`; aggregated rows: user records read back with "
        "`GET /_admin/records?deaggregate=true`, which also flags aggregates the KCL would drop because their user "
        "records' keys hash outside the shard the aggregate landed on), not taken from the contender. **Sink share** "
        "is the server process's CPU (`/proc/PID/stat`) over the contender's plus the server's; the contender's CPU "
        "never includes it. The server runs one event-loop thread" + sink_note(results) + ".",
        "",
        "| contender | version | records | aggregation | delivered | wall s | records/s | MB/s | CPU s | CPU-µs/record | records per CPU-second | × boto3 | × aiokpl | sink share | peak RSS MiB |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in SIZES:
        for aggregate in (False, True):
            boto3 = find(results, "boto3", size, False)
            aiokpl = find(results, "aiokpl", size, aggregate)
            for contender in contenders_list:
                row = next((r for r in results if r["contender"] == contender.name and r["size"] == size
                            and r["aggregate"] == aggregate), None)
                if row is None:
                    continue
                version = row.get("version") or "not installed"
                head = f"| {contender.name} | {version} | {row.get('records', contender.records):,} × {'1 KiB' if size == 1024 else f'{size} B'} | {'on' if aggregate else 'off'} |"
                if "error" in row:
                    lines.append(f"{head} {row['error']} |" + " — |" * 10)
                    continue
                lines.append(
                    f"{head} {delivery(row)} | {row['elapsed_s']:.2f} | {fmt(row['records_per_s'])} | "
                    f"{row['mb_per_s']:.1f} | {row['cpu_s']:.2f} | {row['cpu_us_per_record']:.2f} | "
                    f"{fmt(row['records_per_cpu_s'])} | {times(ratio(row, boto3))} | "
                    f"{times(ratio(row, aiokpl))} | {fmt(row['sink_cpu_share'], '{:.0%}')} | "
                    f"{fmt(row['peak_rss_mib'], '{:.0f}')} |")
    lines += ["", "Ratios compare records per CPU-second with the same record size (× aiokpl: the same aggregation "
              "setting). Rows that say why they have no numbers could not be run here.", "",
              "## Targets (issue 7)", "",
              "| target | measured | verdict | CPU-µs/record it needs | ours now |", "|---|---:|---|---:|---:|"]
    lines += [f"| {' | '.join(cells)} |" for cells in targets(results)]
    ours = [row for row in results if row["contender"] == "kinesis-pusher" and "error" not in row]
    if ours:
        lines += ["", "KinesisPusher's push delay (one PutRecords call, from the runner's metrics) in these runs: " + "; ".join(
            f"{case_label(row['size'], row['aggregate'])} p50 {fmt(row['push_delay_p50_ms'], '{:.1f}')} ms, "
            f"p99 {fmt(row['push_delay_p99_ms'], '{:.1f}')} ms" for row in ours) + "."]
    lines += ["", "## Contenders", ""]
    for contender in contenders_list:
        version = next((row["version"] for row in results if row["contender"] == contender.name), None)
        lines.append(f"- **{contender.name}** {version or '(not installed)'}: {contender.note}.")
    deps = []
    for package in ("botocore", "aiobotocore", "aiohttp", "aws-kinesis-agg"):
        try:
            deps.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            deps.append(f"{package} not installed")
    lines += [f"- Under them: {', '.join(deps)}.", "", "![records per CPU-second, log scale](benchmarks.png)", ""]
    with open(path, "w") as out:
        out.write("\n".join(lines))


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
    figure, axes = plt.subplots(figsize=(11, 5.5), dpi=110)
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
            axes.text(x, row["records_per_cpu_s"] * 1.08, label, ha="center", va="bottom", fontsize=8)
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
    axes.set_title("Producer CPU efficiency: records per CPU-second (higher is better; each to its own kinesis-pusher local)")
    axes.legend(loc="upper left", ncol=len(contenders_list))
    axes.grid(axis="y", which="major", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", help="the release kinesis-pusher binary (required unless --report-only)")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"), help="where benchmarks.md/.json/.png go")
    parser.add_argument("--rounds", type=int, default=5, help="runs per row; the median by CPU per record is kept")
    parser.add_argument("--timeout", type=int, default=240, help="seconds one contender run may take")
    parser.add_argument("--quick", action="store_true", help="a tenth of the records, one round (a smoke test)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin contenders to CPU 0 and their servers to CPU 1 (pinned by default when possible)")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: write benchmarks.md and .png again from the --out folder's benchmarks.json")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    contenders_list = contenders(args.quick)
    json_path = os.path.join(args.out, "benchmarks.json")
    if args.report_only:
        with open(json_path) as saved:
            saved = json.load(saved)
        args.rounds = saved["rounds"]
        report(args, saved["results"], saved["machine"], contenders_list)
        return
    if not args.bin:
        parser.error("--bin is required")
    git_version()  # fixed now: others may commit while it runs
    info = machine()
    PIN["on"] = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    info["pinned"] = PIN["on"]
    results = []
    started = time.monotonic()
    for size in SIZES:
        for aggregate in (False, True):
            for contender in contenders_list:
                if aggregate and not contender.aggregation:
                    continue
                version = contender.version()
                if version is None:
                    row = {"error": f"not installed ({contender.package} is missing from the venv)"}
                else:
                    row = measure(args, contender, size, aggregate)
                row.update(contender=contender.name, version=version, size=size, aggregate=aggregate)
                row.setdefault("records", contender.records)
                results.append(row)
                if "error" in row:
                    print(f"{contender.name:15} {case_label(size, aggregate):26} {row['error']}", flush=True)
                else:
                    print(f"{contender.name:15} {case_label(size, aggregate):26} {row['cpu_us_per_record']:9.2f} CPU-µs/record "
                          f"{row['records_per_cpu_s']:12,.0f} records/CPU-s {row['records_per_s']:10,.0f} records/s  "
                          f"{delivery(row)}", flush=True)
    info["load_average_end"] = load_average()
    os.makedirs(args.out, exist_ok=True)
    with open(json_path, "w") as out:
        json.dump({"machine": info, "rounds": args.rounds, "results": results}, out, indent=1, sort_keys=True)
    report(args, results, info, contenders_list)
    print(f"measured in {time.monotonic() - started:.0f} s")


def report(args, results, info, contenders_list):
    write_markdown(os.path.join(args.out, "benchmarks.md"), results, info, contenders_list, args)
    write_chart(os.path.join(args.out, "benchmarks.png"), results, contenders_list)
    for name, value, verdict, *_ in targets(results):
        print(f"target: {name}: {value} → {verdict.replace('**', '')}")
    print(f"wrote {args.out}/benchmarks.md and .png (data: benchmarks.json)")


if __name__ == "__main__":
    main()
