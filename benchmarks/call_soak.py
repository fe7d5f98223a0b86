#!/usr/bin/env python3
"""Scripted calls across several agents, end to end: recording success, metadata match, time to a complete timeline.

One bounded run, real programs on this machine: a release collector (SQLite, its own CA), N enrolled
agents (`record --follow-calls`), each on its own small Xvfb with a moving scene, and a scripted phone
system that plays --calls calls of 5-30 s (seeded, seed printed) over the webhook: holds, PCI pauses
and transfers to another agent mixed in. After each call the phone system PUTs its voice recording
(a WAV as long as the call). Printed:

* recording success rate: calls whose timeline has screen for every leg from that leg's workstation
  and no "no screen" band (target >= 99.9 % over repeated runs);
* metadata match rate: calls whose voice and every segment were matched by interaction id to the
  right leg (target 100 %);
* call end -> timeline complete: from posting the last leg's end to the moment the collector's
  timeline shows all of the above, p50 / p95 / max (target p95 <= 5 s);
* voice ingest throughput: the WAVs PUT one after another at the end, MB/s and files/s.

Usage: benchmarks/call_soak.py [--calls 200] [--agents 4] [--seed N]
Needs: Xvfb, curl, sox (scripts/install-deps installs them). Builds release binaries.
"""
import argparse
import json
import os
import random
import re
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

from call_latency import build, percentile, start_display, start_following_agent, utc_now, wait_for


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    args = parser.parse_args()
    print(f"seed {args.seed}")
    rng = random.Random(args.seed)
    binpath = build()
    work = tempfile.mkdtemp(prefix="call-soak-")
    data = f"{work}/collector"
    processes = []
    try:
        out = f"{work}/collector.out"
        processes.append(subprocess.Popen([f"{binpath}/recorder-collector", "serve", "--data-dir", data, "--port", "0"],
                                          stdout=open(out, "w"), stderr=open(f"{work}/collector.log", "w")))
        if not wait_for(out, "listening on"):
            raise SystemExit("the collector did not start")
        printed = open(out).read()
        url = re.search(r"https://127\.0\.0\.1:\d+", printed).group(0)
        fingerprint = re.search(r"TLS fingerprint.*: (\S+)", printed).group(1)
        context = ssl.create_default_context(cafile=f"{data}/tls/ca.pem")

        def admin(*arguments):
            return subprocess.run([f"{binpath}/recorder-collector", "admin", *arguments, "--data-dir", data],
                                  check=True, capture_output=True, text=True).stdout

        def request(method, path, body=None, headers=None, token=None):
            req = urllib.request.Request(url + path, data=body, method=method, headers=headers or {})
            if token:
                req.add_header("Authorization", f"Bearer {token}")
            with urllib.request.urlopen(req, context=context, timeout=60) as answer:
                return answer.status, answer.read()

        pbx = admin("integration", "add", "soak-pbx").strip().split("\n")[-1]
        admin("node-path", "rules", "/", "--post-roll", "0")
        agents = []
        for index in range(args.agents):
            name, state = f"soak-ws-{index}", f"{work}/agent-{index}"
            display = start_display(binpath, "320x240", "demo", processes)
            code = admin("enrolment-code", "create", "/soak").split("\t")[0]
            subprocess.run([f"{binpath}/recorder-agent", "enroll", "--collector", url, "--code", code, "--fingerprint",
                            fingerprint, "--agent-id", name, "--state-dir", state], check=True, capture_output=True)
            admin("integration", "map", "soak-pbx", f"agent-{index}", "--agent", name)
            start_following_agent(binpath, state, display, f"{work}/agent-{index}.log", processes)
            agents.append(name)
        password = open(f"{data}/initial-admin-password").read().strip()
        session = json.loads(request("POST", "/api/v1/auth/login",
                                     json.dumps({"username": "admin", "password": password}).encode(),
                                     {"Content-Type": "application/json"})[1])["token"]

        def post(call, leg, agent, kind, extra=None):
            event = {"event_id": f"{call}-{leg}-{kind}-{time.monotonic_ns()}", "type": kind, "occurred_at": utc_now(),
                     "interaction_id": call, "leg_id": leg, "agent_id": agent}
            event.update(extra or {})
            request("POST", "/api/v1/cti/events", json.dumps(event).encode(), {"Content-Type": "application/json"}, pbx)

        def complete(call):
            timeline = json.loads(request("GET", f"/api/v1/calls/{call}/timeline", token=session)[1])
            legs = timeline["legs"]
            screened = all(any(s["agent_id"] == leg["workstation"] and leg["leg_id"] in s["legs"] for s in timeline["screen"])
                           for leg in legs)
            gaps = [b for b in timeline["bands"] if b["kind"] == "no_screen"]
            matched = (all(v["match"]["method"] == "interaction" for v in timeline["voice"]) and
                       all(s["match"]["method"] == "interaction" and set(s["legs"]) <= {leg["leg_id"] for leg in legs}
                           for s in timeline["screen"]) and len(timeline["voice"]) == 1)
            return screened and not gaps, matched, timeline

        results = {}
        lock = threading.Lock()

        def play(call, first, second, seconds, plan):
            """One call on agent `first`, maybe held, paused and transferred to `second`."""
            started = utc_now()
            post(call, "leg-1", f"agent-{first}", "leg.started", {"direction": "inbound", "ani": "+3312345"})
            steps = seconds / 4
            time.sleep(steps)
            if plan["hold"]:
                post(call, "leg-1", f"agent-{first}", "leg.held")
                time.sleep(steps / 2)
                post(call, "leg-1", f"agent-{first}", "leg.resumed")
            if plan["pause"]:
                post(call, "leg-1", f"agent-{first}", "recording.paused", {"reason": "card"})
                time.sleep(steps / 2)
                post(call, "leg-1", f"agent-{first}", "recording.resumed")
            time.sleep(steps)
            last = "leg-1", first
            if plan["transfer"]:
                post(call, "leg-1", f"agent-{first}", "leg.transferred", {"related_leg_id": "leg-2"})
                post(call, "leg-1", f"agent-{first}", "leg.ended")
                post(call, "leg-1", f"agent-{first}", "acw.ended")
                post(call, "leg-2", f"agent-{second}", "leg.started")
                time.sleep(steps * 2)
                last = "leg-2", second
            else:
                time.sleep(steps * 2)
            post(call, last[0], f"agent-{last[1]}", "leg.ended")
            post(call, last[0], f"agent-{last[1]}", "acw.ended")
            return time.time(), plan, started, seconds

        # Each agent takes one call at a time; a transfer borrows the next agent, which is then busy too.
        busy = [threading.Lock() for _ in agents]
        threads = []
        for index in range(args.calls):
            first = index % len(agents)
            second = (first + 1) % len(agents) if len(agents) > 1 and rng.random() < 0.25 else None
            wanted = sorted({first, second} - {None})
            # Drawn here, in call order, so a seed gives the same calls whatever the threads do.
            seconds = rng.uniform(5, 30)
            plan = {"hold": rng.random() < 0.3, "pause": rng.random() < 0.2, "transfer": second is not None}
            for agent in wanted:
                busy[agent].acquire()

            def run(call=f"soak-{index}", first=first, second=second, wanted=wanted, seconds=seconds, plan=plan):
                try:
                    end, plan, started, seconds = play(call, first, second, seconds, plan)
                finally:
                    for agent in wanted:
                        busy[agent].release()
                # The phone system delivers the call's voice once it is over; then the timeline is watched
                # until it is complete.
                wav = f"{work}/{call}.wav"
                subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", wav, "synth", f"{seconds:.2f}",
                                "sine", "300"], check=True)
                request("PUT", f"/api/v1/voice/{call}/leg-1", open(wav, "rb").read(),
                        {"Content-Type": "audio/wav", "X-Voice-Start": started}, pbx)
                os.remove(wav)
                deadline = end + 60
                while True:
                    ok, matched, timeline = complete(call)
                    if ok and matched or time.time() > deadline:
                        break
                    time.sleep(0.1)
                with lock:
                    results[call] = (plan, ok, matched, time.time() - end if ok and matched else None,
                                     [b for b in timeline["bands"] if b["kind"] == "no_screen"])
            thread = threading.Thread(target=run)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()

        # Voice ingest on its own: 30 s WAVs PUT one after another.
        wav = f"{work}/ingest.wav"
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "2", "-b", "16", wav, "synth", "30", "sine", "300"], check=True)
        body = open(wav, "rb").read()
        started_put = time.time()
        for index in range(50):
            request("PUT", f"/api/v1/voice/ingest-{index}/leg-1", body,
                    {"Content-Type": "audio/wav", "X-Voice-Start": utc_now()}, pbx)
        put_seconds = time.time() - started_put
        total_bytes, files = 50 * len(body), 50

        count = len(results)
        plans = [plan for plan, *_ in results.values()]
        successes = sum(1 for _, ok, *_ in results.values() if ok)
        matches = sum(1 for _, _, matched, *_ in results.values() if matched)
        latencies = [latency for *_, latency, _ in results.values() if latency is not None]
        failures = [(call, gaps) for call, (_, ok, _, _, gaps) in sorted(results.items()) if not ok]
        print(f"{count} calls of 5-30 s across {len(agents)} agents ({sum(1 for p in plans if p['transfer'])} "
              f"transferred, {sum(1 for p in plans if p['hold'])} held, {sum(1 for p in plans if p['pause'])} paused)")
        print(f"recording success (screen for every leg, no gap): {successes}/{count} = {100 * successes / count:.1f} %")
        print(f"metadata match (voice and every segment matched by interaction to its leg): "
              f"{matches}/{count} = {100 * matches / count:.1f} %")
        if latencies:
            print("call end -> timeline complete (the last segment uploaded and catalogued, the voice PUT, matched): "
                  f"p50 {percentile(latencies, 0.5):.1f} s, p95 {percentile(latencies, 0.95):.1f} s, "
                  f"max {max(latencies):.1f} s")
        print(f"voice ingest: {files} stereo 30 s WAVs, {total_bytes / 1e6:.1f} MB in {put_seconds:.1f} s: "
              f"{total_bytes / 1e6 / put_seconds:.2f} MB/s, {files / put_seconds:.1f} files/s (one at a time, over HTTPS)")
        for call, gaps in failures[:5]:
            print(f"  not complete: {call} {gaps}")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
