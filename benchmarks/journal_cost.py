#!/usr/bin/env python3
"""What the crash journal costs: the agent recording the office scene, sealed, with and without it.

Each variant records the same x11-scene `office` script on a fresh 1920x1080 Xvfb for --seconds at
5 fps and 300 kbit/s, one after the other: plain (no recipient, nothing journaled), sealed with the
journal off (`--journal-sync 0`: the whole segment in progress is lost in a crash), and sealed with
the journal synced every 1, 2 (the default) and 5 s. Printed side by side, per minute of recording:
CPU seconds (user+sys, from wait4), peak RSS, bytes the agent wrote to files (write(2) results for
files under the run's directory) and its fdatasync/fsync calls (both from a second, strace'd run:
strace slows the process, so its CPU is not used), and what reached the disk device (sectors and write requests from
/proc/diskstats for the device under the state directory, ext4's journal commits included; other
activity on the machine counts too, so run it on a quiet machine).

Usage: benchmarks/journal_cost.py [--seconds 60]
Needs: Xvfb, openssl, strace (apt-get install strace). Builds release binaries.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_vs_ffmpeg import Xvfb, build, start_scene, run  # noqa: E402


def device_of(path):
    """The /proc/diskstats name of the block device holding path (the whole disk for a partition)."""
    device = os.stat(path).st_dev
    with open("/proc/diskstats") as f:
        for line in f:
            fields = line.split()
            if int(fields[0]) == os.major(device) and int(fields[1]) == os.minor(device):
                return fields[2]
    return None


def disk_writes(device):
    """(write requests completed, bytes written) of a device so far."""
    with open("/proc/diskstats") as f:
        for line in f:
            fields = line.split()
            if fields[2] == device:
                return int(fields[7]), int(fields[9]) * 512
    return 0, 0


def agent_args(binpath, display, seconds, work, variant, keys):
    args = [f"{binpath}/recorder-agent", "record", "--display", display, "--duration", f"{seconds}s",
            "--out", f"{work}/spool", "--state-dir", f"{work}/state", "--fps", "5", "--bitrate", "300",
            "--agent-id", "bench-journal", "--log-level", "warning"]
    if variant != "plain":
        args += ["--recipient", keys]
    if variant == "sealed, no journal":
        args += ["--journal-sync", "0"]
    elif variant.startswith("journal, sync"):
        args += ["--journal-sync", variant.split()[-1] + "s"]
    return args


def cpu_and_rss(binpath, variant, seconds, keys, root):
    """CPU seconds and peak RSS (MB) of one run, from wait4."""
    work = tempfile.mkdtemp(prefix="journal-", dir=root)
    xvfb = Xvfb(1920, 1080)
    scene = start_scene(binpath, xvfb.display, "office", seconds + 30, f"{work}/events")
    time.sleep(1)
    command = agent_args(binpath, xvfb.display, seconds, work, variant, keys)
    pid = os.posix_spawn(command[0], command, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    scene.kill()
    xvfb.close()
    shutil.rmtree(work, ignore_errors=True)
    if status != 0:
        raise SystemExit(f"{variant}: the agent exited with status {status}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def writes_and_syncs(binpath, variant, seconds, keys, root):
    """One strace'd run: bytes written to files under the run's directory, fsync/fdatasync calls, and
    what reached the disk device meanwhile (strace slows the agent, not what it writes)."""
    work = tempfile.mkdtemp(prefix="journal-", dir=root)
    xvfb = Xvfb(1920, 1080)
    scene = start_scene(binpath, xvfb.display, "office", seconds + 30, f"{work}/events")
    time.sleep(1)
    device = device_of(work)
    before = disk_writes(device)
    trace = f"{root}/strace-{os.getpid()}"
    subprocess.run(["strace", "-f", "-qq", "-y", "-s", "0", "-o", trace, "-e", "trace=write,pwrite64,fsync,fdatasync"]
                   + agent_args(binpath, xvfb.display, seconds, work, variant, keys),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = disk_writes(device)
    written = 0
    calls = 0
    with open(trace) as f:
        for line in f:
            if "sync(" in line:
                calls += 1
                continue
            match = re.search(r"write(?:64)?\(\d+<([^>]*)>.*\)\s+=\s+(\d+)", line)
            if match and match.group(1).startswith(work):
                written += int(match.group(2))
    os.remove(trace)
    scene.kill()
    xvfb.close()
    shutil.rmtree(work, ignore_errors=True)
    return written, calls, after[0] - before[0], after[1] - before[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--variants", default="plain,sealed, no journal,journal, sync 1,journal, sync 2,journal, sync 5")
    parser.add_argument("--bin-path", help="use these binaries instead of building release ones (e.g. a debug "
                        "build's: syncs and bytes do not depend on it, CPU does)")
    args = parser.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("strace is needed: apt-get install strace")
    binpath = args.bin_path or build()
    root = tempfile.mkdtemp(prefix="journal-bench-", dir=os.environ.get("JOURNAL_BENCH_DIR", "/var/tmp"))
    keys = f"{root}/cert.pem"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{root}/key.pem", "-out", keys,
         "-days", "1", "-subj", "/CN=bench"])
    variants = re.findall(r"plain|sealed, no journal|journal, sync \d+", args.variants)
    per_minute = 60 / args.seconds
    print(f"office scene, 1920x1080, 5 fps, 300 kbit/s, {args.seconds} s per run; figures per minute of recording")
    print(f"state and spool on {root} (device {device_of(root)})")
    print(f"{'variant':<20} {'CPU s':>7} {'peak RSS':>9} {'written':>10} {'syncs':>6} {'disk writes':>12} {'disk bytes':>11}")
    for variant in variants:
        cpu, rss = cpu_and_rss(binpath, variant, args.seconds, keys, root)
        written, syncs, requests, disk_bytes = writes_and_syncs(binpath, variant, args.seconds, keys, root)
        print(f"{variant:<20} {cpu * per_minute:>7.2f} {rss:>7.1f} MB {written * per_minute / 1e6:>7.2f} MB "
              f"{syncs * per_minute:>6.0f} {requests * per_minute:>12.0f} {disk_bytes * per_minute / 1e6:>8.2f} MB",
              flush=True)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
