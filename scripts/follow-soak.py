#!/usr/bin/env python3
"""Kill/rotate soak of `kinesis-pusher push --follow --checkpoint` (issue 15), end to end through `kinesis-pusher local`.

A writer appends numbered lines to DIR/app.log at --rate lines/s (each tick's lines in two writes split at a random
byte, so a kill often finds a partial last line) and rotates it by rename every 15-40 s (app.log -> app.log.1 ->
app.log.2 ..., the oldest beyond --keep deleted). A follower (`push --follow --checkpoint`) ships it into a 4-shard
stream with per-shard limits on; every 10-30 s (--kill-min/--kill-max) it is killed with SIGKILL and started again
at once with the same command. At the end the writer stops, the follower catches up (its checkpoint reaches the end
of app.log), optionally idles for --idle-seconds while its CPU time is sampled from /proc (as ps does), and is
stopped with SIGTERM (it must exit 0 within its shutdown timeout). Then the stream is read back: every line written
must be there (lost 0); the duplicates are printed, per kill too, and must stay within --max-duplicates.

Usage: scripts/follow-soak.py [--seconds 300] [--rate 2000] [--bin .build/debug/kinesis-pusher] [--quick]
--quick: 45 s, a kill every 8-15 s, rotation every 10-20 s (the CI version). Exits 1 on a failed check.
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, log, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"kinesis-pusher local exited ({process.returncode}); its log:\n{open(log).read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"kinesis-pusher local did not listen on {port} within {timeout} s")


class Writer(threading.Thread):
    """Appends 'N <padding>' lines at `rate` lines/s and rotates by rename; counts what it wrote."""

    def __init__(self, directory, rate, rotate_range, keep, size, seed):
        super().__init__(daemon=True)
        self.path = os.path.join(directory, "app.log")
        self.rate, self.rotate_range, self.keep, self.size = rate, rotate_range, keep, size
        self.random = random.Random(seed)
        self.written = 0
        self.rotations = 0
        self.stopping = threading.Event()
        self.error = None

    def rotate(self):
        oldest = f"{self.path}.{self.keep}"
        if os.path.exists(oldest):
            os.remove(oldest)
        for n in range(self.keep - 1, 0, -1):
            if os.path.exists(f"{self.path}.{n}"):
                os.rename(f"{self.path}.{n}", f"{self.path}.{n + 1}")
        os.rename(self.path, f"{self.path}.1")
        self.rotations += 1

    def run(self):
        try:
            start = time.monotonic()
            next_rotation = start + self.random.uniform(*self.rotate_range)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= next_rotation:
                    os.close(descriptor)
                    self.rotate()
                    descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                    next_rotation = now + self.random.uniform(*self.rotate_range)
                due = min(int(self.rate * (now - start)), self.written + int(self.rate))
                if due > self.written:
                    data = "".join(f"{n} {'x' * (self.size - len(str(n)) - 2)}\n" for n in range(self.written, due)).encode()
                    cut = self.random.randrange(1, len(data))
                    os.write(descriptor, data[:cut])
                    time.sleep(0.005)
                    os.write(descriptor, data[cut:])
                    self.written = due
                time.sleep(0.05)
            os.close(descriptor)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            self.error = error


def cpu_seconds(pid):
    """utime + stime of a process, as ps reads them."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def checkpoint_offset(path, log_path):
    """The offset the checkpoint records for `log_path` when it is the file now under that name, else None."""
    try:
        files = json.load(open(path))["files"]
        status = os.stat(log_path)
    except (OSError, ValueError, KeyError):
        return None
    for entry in files:
        identity = entry["identity"]
        if entry["path"] == log_path and identity["inode"] == status.st_ino and identity["device"] == status.st_dev:
            return entry["offset"]
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/debug/kinesis-pusher")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--line-bytes", type=int, default=100)
    parser.add_argument("--kill-min", type=float, default=10)
    parser.add_argument("--kill-max", type=float, default=30)
    parser.add_argument("--rotate-min", type=float, default=15)
    parser.add_argument("--rotate-max", type=float, default=40)
    parser.add_argument("--keep", type=int, default=5, help="rotated files kept")
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument("--max-duplicates", type=int, default=10_000, help="per kill")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--push-args", default="", help="more push options, e.g. '--async'")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.kill_min, args.kill_max, args.rotate_min, args.rotate_max = 45, 8, 15, 10, 20
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="follow-soak-")
    env = dict(os.environ, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
               AWS_EC2_METADATA_DISABLED="true")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    local_log = os.path.join(work, "local.log")
    local = subprocess.Popen([args.bin, "local", "--port", str(port), "--stream", "follow:4",
                              "--retain-records", "50000000", "--retain-mib", "16384"],
                             stdout=open(local_log, "w"), stderr=subprocess.STDOUT, env=env)
    failures = []
    try:
        wait_for_port(port, local, local_log)
        logs = os.path.join(work, "logs")
        os.mkdir(logs)
        writer = Writer(logs, args.rate, (args.rotate_min, args.rotate_max), args.keep, args.line_bytes, args.seed)
        writer.start()
        checkpoint = os.path.join(work, "state.json")
        command = [args.bin, "push", "--stream", "follow", "--endpoint", endpoint, "--follow", "--checkpoint", checkpoint,
                   "--report", "json", *args.push_args.split(), writer.path]
        runs = []

        def start():
            n = len(runs)
            err = open(os.path.join(work, f"push-{n}.err"), "w")
            out = open(os.path.join(work, f"push-{n}.json"), "w")
            runs.append(subprocess.Popen(command, stdout=out, stderr=err, env=env))
            return runs[-1]

        print(f"follow soak: {args.seconds:.0f} s, {args.rate} lines/s of {args.line_bytes} bytes, a kill -9 every "
              f"{args.kill_min:.0f}-{args.kill_max:.0f} s, rotation by rename every {args.rotate_min:.0f}-{args.rotate_max:.0f} s, "
              f"seed {args.seed}, work {work}")
        follower = start()
        end = time.monotonic() + args.seconds
        kills = 0
        while (next_kill := time.monotonic() + rng.uniform(args.kill_min, args.kill_max)) < end:
            while time.monotonic() < next_kill:
                if follower.poll() is not None:
                    failures.append(f"the follower exited by itself ({follower.returncode}); see {work}/push-{len(runs) - 1}.err")
                    raise StopIteration
                time.sleep(0.1)
            follower.kill()
            follower.wait()
            kills += 1
            follower = start()
        time.sleep(max(0.0, end - time.monotonic()))
        writer.stopping.set()
        writer.join()
        if writer.error:
            failures.append(f"the writer failed: {writer.error}")
        size = os.path.getsize(writer.path)
        deadline = time.monotonic() + 120
        while checkpoint_offset(checkpoint, writer.path) != size and time.monotonic() < deadline:
            time.sleep(0.2)
        caught_up = checkpoint_offset(checkpoint, writer.path) == size
        if not caught_up:
            failures.append(f"the checkpoint did not reach the end of {writer.path} ({size} bytes) within 120 s")
        idle_cpu = None
        if caught_up and args.idle_seconds > 0:
            samples = []
            for _ in range(int(args.idle_seconds) + 1):
                samples.append(cpu_seconds(follower.pid))
                time.sleep(1)
            idle_cpu = samples[-1] - samples[0]
        follower.send_signal(signal.SIGTERM)
        try:
            status = follower.wait(timeout=40)
        except subprocess.TimeoutExpired:
            follower.kill()
            status = "hung (killed after 40 s)"
            failures.append("the follower did not exit within 40 s of SIGTERM")
        if status != 0:
            failures.append(f"the last follower exited {status} after SIGTERM")
        resumed = []
        for n in range(len(runs)):
            resumed += [line.strip() for line in open(os.path.join(work, f"push-{n}.err")) if line.startswith("resumed ")]

        read_out = os.path.join(work, "read.ndjson")
        with open(read_out, "w") as out:
            subprocess.run([args.bin, "read", "--stream", "follow", "--endpoint", endpoint], stdout=out,
                           stderr=open(os.path.join(work, "read.err"), "w"), env=env, check=True)
        seen = {}
        malformed = 0
        for line in open(read_out):
            data = json.loads(line)["data"]
            head, _, pad = data.partition(" ")
            if not head.isdigit() or len(data) != args.line_bytes - 1:
                malformed += 1
                continue
            seen[int(head)] = seen.get(int(head), 0) + 1
        lost = sum(1 for n in range(writer.written) if n not in seen)
        duplicates = sum(seen.values()) - len(seen)
        unexpected = sum(1 for n in seen if n >= writer.written)
        last = {}
        try:
            last = json.load(open(os.path.join(work, f"push-{len(runs) - 1}.json")))
        except ValueError:
            failures.append("the last follower wrote no JSON report")
        print(f"  written {writer.written} lines, {writer.rotations} rotations, {kills} kills (-9), {len(runs)} runs")
        print(f"  read back {sum(seen.values())} records: lost {lost}, duplicates {duplicates} "
              f"({duplicates / max(kills, 1):.0f} per kill), malformed {malformed}, unexpected {unexpected}")
        print(f"  resumed: {len(resumed)} times" + (f", e.g. '{resumed[-1]}'" if resumed else ""))
        print(f"  last run: exit {status}, delivered {last.get('delivered')}, failed {last.get('failed')}"
              + (f"; idle {args.idle_seconds:.0f} s after catching up: {idle_cpu:.2f} s CPU" if idle_cpu is not None else ""))
        if lost:
            failures.append(f"{lost} lines lost (e.g. line {next(n for n in range(writer.written) if n not in seen)})")
        if malformed or unexpected:
            failures.append(f"{malformed} malformed and {unexpected} unexpected records")
        if duplicates > args.max_duplicates * max(kills, 1):
            failures.append(f"{duplicates} duplicates: more than {args.max_duplicates} per kill")
        if kills and len(resumed) < kills:
            failures.append(f"{kills} restarts but {len(resumed)} 'resumed' lines")
    except StopIteration:
        pass
    finally:
        local.terminate()
        local.wait()
    for failure in failures:
        print(f"  FAIL {failure}")
    print("  ok   follow soak" if not failures else f"  (work kept in {work})")
    if not failures and not args.keep_work:
        subprocess.run(["rm", "-rf", work])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
