#!/usr/bin/env python3
"""Calls through the collector to the workstation: event → first frame, and the waiting agent's cost.

One run, real programs on this machine: a collector (SQLite, its own CA), an enrolled agent
(`record --follow-calls`) on a 1280x720 Xvfb with a moving scene, and a scripted phone system that
posts each call's events to the webhook over HTTPS. Printed:

* the agent's cost while it waits for calls with its long poll open (CPU share of one core and RSS,
  over --idle seconds; targets ≤ 0.005 core and ≤ 80 MB), and the collector's over the same time;
* for --calls calls: the time from posting `leg.started` to the first frame the agent captured for
  that call, taken from the segment manifests the collector catalogued (the agent stamps each first
  frame with its wall clock; both run on this machine's clock), p50 / p90 / p99 / max (target p99 ≤ 1 s);
* the same for --calls calls sent to the agent's local socket, as a softphone on the workstation
  would (target p99 ≤ 200 ms);
* with --office SECONDS: the agent restarted on a 1920x1080 Xvfb drawing the office scene, recording
  calls that start and stop (10 s on, 2 s off, through the local socket) for that long, against
  `ffmpeg -f x11grab -c:v libvpx` recording the same display at the same fps and bitrate for as long
  as the calls lasted (target ≤ 0.3x per recorded second).

Usage: benchmarks/call_latency.py [--calls 30] [--idle 60] [--call-seconds 1.5] [--office 60]
Needs: Xvfb, curl (scripts/install-deps installs them). Builds release binaries.
"""
import argparse
import json
import os
import re
import socket as sockets
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build():
    for product in ["recorder-collector", "recorder-agent", "x11-scene"]:
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                       stdout=sys.stderr)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_for(path, text, seconds=60, count=1):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with open(path) as f:
                if f.read().count(text) >= count:
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return False


def utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def start_display(binpath, size, scene, processes):
    """A fresh Xvfb of `size` (e.g. 1280x720) drawing `scene`; returns its display name."""
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", f"{size}x24", "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    processes.append(xvfb)
    display = ":" + xvfb.stdout.readline().strip()
    processes.append(subprocess.Popen([f"{binpath}/x11-scene", "--display", display, "--scene", scene],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return display


def start_following_agent(binpath, state, display, log, processes):
    """An enrolled agent waiting for calls on `display`, once its long poll is open."""
    agent = subprocess.Popen([f"{binpath}/recorder-agent", "record", "--config", f"{state}/agent.json",
                              "--display", display, "--follow-calls"], stdout=subprocess.DEVNULL,
                             stderr=open(log, "w"))
    processes.append(agent)
    if not wait_for(log, "call events resynchronised"):
        raise SystemExit(f"the agent of {state} did not connect: " + open(log).read())
    return agent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--idle", type=float, default=60)
    parser.add_argument("--call-seconds", type=float, default=1.5)
    parser.add_argument("--office", type=float, default=0, help="seconds of office-scene calls vs ffmpeg (0: skip)")
    args = parser.parse_args()
    binpath = build()
    work = tempfile.mkdtemp(prefix="call-latency-")
    data, state = f"{work}/collector", f"{work}/agent"
    processes = []
    try:
        display = start_display(binpath, "1280x720", "demo", processes)
        collector_out = f"{work}/collector.out"
        collector = subprocess.Popen([f"{binpath}/recorder-collector", "serve", "--data-dir", data, "--port", "0"],
                                     stdout=open(collector_out, "w"), stderr=open(f"{work}/collector.log", "w"))
        processes.append(collector)
        if not wait_for(collector_out, "listening on"):
            raise SystemExit("the collector did not start")
        printed = open(collector_out).read()
        url = re.search(r"https://127\.0\.0\.1:\d+", printed).group(0)
        fingerprint = re.search(r"TLS fingerprint.*: (\S+)", printed).group(1)

        def admin(*arguments):
            return subprocess.run([f"{binpath}/recorder-collector", "admin", *arguments, "--data-dir", data],
                                  check=True, capture_output=True, text=True).stdout

        code = admin("enrolment-code", "create", "/bench").split("\t")[0]
        subprocess.run([f"{binpath}/recorder-agent", "enroll", "--collector", url, "--code", code, "--fingerprint",
                        fingerprint, "--agent-id", "bench-ws", "--state-dir", state], check=True,
                       capture_output=True)
        token = admin("integration", "add", "bench-pbx").strip().split("\n")[-1]
        admin("integration", "map", "bench-pbx", "agent-7", "--agent", "bench-ws")
        agent_log = f"{work}/agent.log"
        agent = start_following_agent(binpath, state, display, agent_log, processes)

        # Waiting for calls, long poll open.
        time.sleep(5)
        agent_cpu, collector_cpu, started = cpu_seconds(agent.pid), cpu_seconds(collector.pid), time.time()
        time.sleep(args.idle)
        elapsed = time.time() - started
        idle_agent = (cpu_seconds(agent.pid) - agent_cpu) / elapsed
        idle_collector = (cpu_seconds(collector.pid) - collector_cpu) / elapsed
        idle_rss, idle_peak = memory_mb(agent.pid, "VmRSS:"), memory_mb(agent.pid, "VmHWM:")

        context = ssl.create_default_context(cafile=f"{data}/tls/ca.pem")

        def post(event_id, kind, call):
            now = utc_now()
            body = json.dumps({"event_id": event_id, "type": kind, "occurred_at": now, "interaction_id": call,
                               "leg_id": f"{call}-leg", "agent_id": "agent-7"}).encode()
            request = urllib.request.Request(f"{url}/api/v1/cti/events", data=body, method="POST", headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, context=context) as answer:
                accepted = json.load(answer)
            if accepted.get("accepted") != 1 or accepted.get("unrouted") != 0:
                raise SystemExit(f"{event_id}: {accepted}")

        def play_calls(send, prefix, done_before):
            """Each call: start, --call-seconds, end and after-call work; waits until the agent stopped
            recording it. Returns when each call's start was sent."""
            sent = {}
            for index in range(args.calls):
                call = f"{prefix}-{index}"
                sent[call] = time.time()
                send(f"{call}-start", "leg.started", call)
                time.sleep(args.call_seconds)
                send(f"{call}-end", "leg.ended", call)
                send(f"{call}-acw", "acw.ended", call)
                if not wait_for(agent_log, "recording stopped: no call left", count=done_before + index + 1):
                    raise SystemExit(f"{call} did not stop: " + open(agent_log).read()[-2000:])
            return sent

        posted = play_calls(post, "bench-call", 0)
        # The same through the agent's local socket, as a softphone on the workstation would send them.

        def local(event_id, kind, call):
            now = utc_now()
            line = json.dumps({"event_id": event_id, "type": kind, "occurred_at": now, "interaction_id": call,
                               "leg_id": f"{call}-leg"}) + "\n"
            with sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM) as connection:
                connection.connect(f"{state}/agent.sock")
                connection.sendall(line.encode())
                answer = connection.makefile().readline()
            if '"accepted":true' not in answer:
                raise SystemExit(f"{event_id}: {answer}")

        local_first = play_calls(local, "local-call", args.calls)
        calls_rss_peak = memory_mb(agent.pid, "VmHWM:")
        calls_rss_now = memory_mb(agent.pid, "VmRSS:")

        deadline = time.time() + 180

        def first_frame_ms(sent):
            """Per call, from sending its start to its first frame in the catalogued manifests."""
            latencies = []
            for call, at in sent.items():
                while True:
                    rows = json.loads(admin("segment", "list", "--call", call, "--json"))
                    if rows or time.time() > deadline:
                        break
                    time.sleep(0.2)
                if not rows:
                    raise SystemExit(f"{call}: no segment catalogued")
                first = min(datetime.fromisoformat(row["manifest"]["firstFrameTime"].replace("Z", "+00:00"))
                            for row in rows)
                latencies.append(1000 * (first.timestamp() - at))
            return latencies

        print(f"agent waiting for calls (long poll open, {elapsed:.0f} s): {idle_agent:.4f} core, "
              f"RSS {idle_rss:.1f} MB (peak {idle_peak:.1f} MB); collector {idle_collector:.4f} core")
        ms = first_frame_ms(posted)
        print(f"event → first frame over {len(ms)} calls (posted to the collector, routed, long poll, capture): "
              f"p50 {percentile(ms, 0.5):.0f} ms, p90 {percentile(ms, 0.9):.0f} ms, "
              f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms, min {min(ms):.0f} ms")
        local_latencies = first_frame_ms(local_first)
        print(f"local event → first frame over {len(local_latencies)} calls (the agent's socket, as a softphone): "
              f"p50 {percentile(local_latencies, 0.5):.0f} ms, p90 {percentile(local_latencies, 0.9):.0f} ms, "
              f"p99 {percentile(local_latencies, 0.99):.0f} ms, max {max(local_latencies):.0f} ms")
        print(f"agent RSS after the calls: {calls_rss_now:.1f} MB (peak {calls_rss_peak:.1f} MB)")
        if args.office > 0:
            agent.terminate()
            agent.wait(timeout=30)
            office_vs_ffmpeg(args, binpath, state, work, local, processes)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def office_vs_ffmpeg(args, binpath, state, work, send, processes):
    """Calls starting and stopping on the office scene: the agent's CPU against ffmpeg's on the same display."""
    display = start_display(binpath, "1920x1080", "office", processes)
    log = f"{work}/agent-office.log"
    agent = start_following_agent(binpath, state, display, log, processes)
    time.sleep(3)
    cpu, started, recorded, index = cpu_seconds(agent.pid), time.time(), 0.0, 0
    while time.time() - started < args.office:
        call = f"office-{index}"
        send(f"{call}-start", "leg.started", call)
        begun = time.time()
        time.sleep(10)
        send(f"{call}-end", "leg.ended", call)
        send(f"{call}-acw", "acw.ended", call)
        index += 1
        if not wait_for(log, "recording stopped: no call left", count=index):
            raise SystemExit(f"{call} did not stop: " + open(log).read()[-2000:])
        recorded += time.time() - begun
        time.sleep(2)
    elapsed = time.time() - started
    agent_cpu = cpu_seconds(agent.pid) - cpu
    peak = memory_mb(agent.pid, "VmHWM:")
    # ffmpeg records as long as the calls did, continuously: what it costs per recorded second.
    before = os.times()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "x11grab", "-framerate", "5", "-video_size",
                    "1920x1080", "-i", display, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
                    "-b:v", "300k", "-t", f"{recorded:.1f}", f"{work}/ffmpeg-office.webm"], check=True)
    after = os.times()
    ffmpeg_cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    print(f"office scene 1920x1080 at 5 fps / 300 kbit/s, {index} calls (10 s each, 2 s apart) over "
          f"{elapsed:.0f} s, {recorded:.0f} s recorded: agent {agent_cpu:.2f} s CPU "
          f"({agent_cpu / recorded:.3f} core per recorded second, peak RSS {peak:.1f} MB); ffmpeg "
          f"{ffmpeg_cpu:.2f} s for the same {recorded:.0f} s ({ffmpeg_cpu / recorded:.3f} core): "
          f"{agent_cpu / ffmpeg_cpu:.2f}x")


if __name__ == "__main__":
    main()
