#!/usr/bin/env python3
"""Our agent vs `ffmpeg -f x11grab -c:v libvpx` on identical scripted Xvfb scenes, in one run.

For each scene (idle desktop, office work, and the busy ones: a terminal scrolling a build log, Chromium
scrolling a long page, typing into a form, a window dragged across the screen, a video in a corner) both
recorders record the same x11-scene script on a
fresh 1920x1080 Xvfb, one after the other (never at the same time, so neither steals the other's
CPU), at the same fps and bitrate. Printed side by side: CPU seconds per minute of recording
(user+sys, from /usr/bin/time), CPU share of one core, peak RSS, bytes per minute, frames written
vs ticks, and quality (SSIM and PSNR against lossless reference screenshots taken while the scene
holds still at its checkpoints). For our agent it also reports how late each scene change appears
in the recording (rectangles scene), which must stay within one frame interval.

Usage: benchmarks/capture_vs_ffmpeg.py [--seconds 60] [--fps 5] [--bitrate 300] [--cpu-used 8]
Needs: Xvfb, ffmpeg, /usr/bin/time, chromium (scripts/install-deps installs them). Builds release binaries.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def build():
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=sys.stderr)
    return run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).stdout.strip()


class Xvfb:
    def __init__(self, width, height):
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", "1", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.display = ":" + self.proc.stdout.readline().strip()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def start_scene(binpath, display, scene, seconds, events_path, period=None):
    if scene == "browser":
        return BrowserScene(display, seconds, events_path)
    args = [f"{binpath}/x11-scene", "--display", display, "--scene", scene, "--seconds", str(seconds)]
    if period:
        args += ["--period", str(period)]
    return subprocess.Popen(args, stdout=open(events_path, "w"), stderr=subprocess.DEVNULL)


BROWSER_PAGE = """<!doctype html><meta charset=utf-8><title>Knowledge base</title>
<style>body{font:15px/1.5 sans-serif;margin:0;background:#fff;color:#222}
header{position:fixed;top:0;left:0;right:0;height:48px;background:#245;color:#fff;font-size:20px;padding:10px 24px}
main{margin:72px auto;width:1100px} h2{color:#245;border-bottom:2px solid #9ab}
table{border-collapse:collapse;width:100%} td{border:1px solid #ccd;padding:4px 8px}
.note{background:#fdf3d0;border-left:6px solid #e8b300;padding:8px 16px}</style>
<header>Knowledge base &mdash; billing disputes</header><main id=main></main>
<script>
// Deterministic content, then a wheel-like scroll: 30 px every 100 ms, holding still for the 1.5 s
// of every 10 s of wall-clock time in which the benchmark takes its reference screenshots.
const main = document.getElementById('main');
let html = '';
for (let i = 0; i < 400; i++) {
  html += `<h2>${i + 1}. Refund case type ${i % 17}</h2><p>` +
    'When the customer reports a double charge, confirm the last four digits, the date and the amount. '.repeat(3 + i % 4) + '</p>';
  if (i % 3 == 0) {
    html += '<table>' + [0, 1, 2, 3].map(r => `<tr><td>Plan ${r + i}</td><td>${(r * 7 + i) % 97}.99 EUR</td><td>code RF-${i}-${r}</td></tr>`).join('') + '</table>';
  }
  if (i % 5 == 2) html += `<p class=note>Escalate to tier 2 when the amount exceeds ${100 + i} EUR.</p>`;
}
main.innerHTML = html;
setInterval(() => {
  if (Date.now() % 10000 >= 8500) return;
  if (window.scrollY + window.innerHeight >= document.body.scrollHeight - 10) window.scrollTo(0, 0);
  else window.scrollBy(0, 30);
}, 100);
</script>"""


class BrowserScene:
    """Debian's Chromium on the display, scrolling a long page; announces the checkpoints the page holds for."""

    def __init__(self, display, seconds, events_path):
        import threading
        self.workdir = tempfile.mkdtemp(prefix="browser-scene-")
        page = os.path.join(self.workdir, "page.html")
        with open(page, "w") as f:
            f.write(BROWSER_PAGE)
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            raise SystemExit("the browser scene needs chromium (apt-get install chromium)")
        env = dict(os.environ, DISPLAY=display)
        self.proc = subprocess.Popen(
            [browser, "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-smooth-scrolling", "--force-device-scale-factor=1", "--kiosk", "--window-position=0,0",
             "--window-size=1920,1080", f"--user-data-dir={self.workdir}/profile", "file://" + page],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.stop = False
        self.events_path = events_path
        open(events_path, "w").close()
        self.thread = threading.Thread(target=self.announce, args=(time.time() + seconds,), daemon=True)
        self.thread.start()
        time.sleep(4)  # Chromium starts and lays the page out before anyone records

    def announce(self, until):
        announced = set()
        while not self.stop and time.time() < until:
            now = time.time()
            index = int(now // 10)
            if now % 10 >= 8.6 and index not in announced:
                announced.add(index)
                with open(self.events_path, "a") as f:
                    f.write(json.dumps({"event": f"checkpoint-{index}", "wallTimeNanos": int(now * 1e9)}) + "\n")
            time.sleep(0.02)

    def kill(self):
        self.stop = True
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def read_events(path):
    events = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (cpu seconds, peak RSS in MB, stderr text)."""
    result = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", result.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", result.stderr).group(1))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    return user + system, rss_kb / 1024, result.stderr


def screenshot(display, path, width, height):
    run(["ffmpeg", "-v", "error", "-y", "-f", "x11grab", "-draw_mouse", "1", "-video_size", f"{width}x{height}",
         "-i", display, "-frames:v", "1", path])


def frame_at(video, seconds, path):
    """The picture a player shows at `seconds`: last frame with pts <= seconds (variable frame rate)."""
    run(["ffmpeg", "-v", "error", "-y", "-i", video, "-t", f"{seconds + 0.001:.3f}", "-fps_mode", "passthrough",
         "-update", "1", path])


def compare(a, b):
    out = subprocess.run(["ffmpeg", "-v", "info", "-i", a, "-i", b, "-lavfi", "[0][1]ssim;[0][1]psnr", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    ssim = float(re.search(r"SSIM .*All:([\d.]+)", out).group(1))
    psnr_match = re.search(r"PSNR .*average:([\d.]+|inf)", out)
    psnr = float("inf") if psnr_match.group(1) == "inf" else float(psnr_match.group(1))
    return ssim, psnr


def count_frames(video):
    out = run(["ffprobe", "-v", "error", "-select_streams", "v", "-count_packets", "-show_entries",
               "stream=nb_read_packets", "-of", "csv=p=0", video]).stdout.strip()
    return int(out)


def record(recorder, binpath, display, seconds, args, workdir, width, height, scene):
    """Records `seconds` with one recorder; returns metrics and the file(s)."""
    out = os.path.join(workdir, f"{scene}-{recorder}")
    os.makedirs(out, exist_ok=True)
    if recorder == "agent":
        cmd = [f"{binpath}/recorder-agent", "record", "--display", display, "--duration", f"{seconds}s",
               "--out", out, "--fps", str(args.fps), "--bitrate", str(args.bitrate), "--cpu-used",
               str(args.cpu_used), "--segment-length", f"{seconds + 10}s", "--log-level", "warning"]
    else:
        cmd = ["ffmpeg", "-v", "error", "-nostdin", "-f", "x11grab", "-framerate", str(args.fps), "-video_size",
               f"{width}x{height}", "-i", display, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used",
               str(args.cpu_used), "-b:v", f"{args.bitrate}k", "-t", str(seconds), os.path.join(out, "ffmpeg.webm")]
    started = time.time()
    cpu, rss, _ = timed(cmd)
    files = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".webm"))
    size = sum(os.path.getsize(f) for f in files)
    frames = sum(count_frames(f) for f in files)
    return {"cpu": cpu, "rss": rss, "bytes": size, "frames": frames, "files": files, "started": started}


def quality(result, recorder, checkpoints, workdir):
    """SSIM/PSNR at each checkpoint's reference screenshot."""
    scores = []
    video = result["files"][0]
    if recorder == "agent":
        summary = run([f"{BIN}/recorder-agent", "inspect", video]).stdout
        start = parse_start(summary)
    else:
        start = result["started"] + 0.15  # ffmpeg's first frame arrives shortly after launch
    for index, (wall, reference) in enumerate(checkpoints):
        shown = os.path.join(workdir, f"{os.path.basename(os.path.dirname(video))}-cp{index}.png")
        frame_at(video, wall - start, shown)
        scores.append(compare(shown, reference))
    if not scores:
        return None, None
    return sum(s for s, _ in scores) / len(scores), min(p for _, p in scores)


def parse_start(inspect_line):
    stamp = re.search(r"starts (\S+),", inspect_line).group(1)
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def scene_run(name, args, workdir):
    width, height = 1920, 1080
    results = {}
    for recorder in args.recorders.split(","):
        xvfb = Xvfb(width, height)
        try:
            events_path = os.path.join(workdir, f"{name}-{recorder}-events.jsonl")
            scene = start_scene(BIN, xvfb.display, name, args.seconds + 3, events_path)
            time.sleep(1.0)
            checkpoints = []
            stop_refs = False

            # Reference screenshots at the scene's checkpoints, taken while the recorder runs.
            import threading

            def take_references():
                seen = 0
                while not stop_refs:
                    events = read_events(events_path) if os.path.exists(events_path) else []
                    marks = [e for e in events if e["event"].startswith("checkpoint") or e["event"] == "drawn"]
                    if len(marks) > seen:
                        seen = len(marks)
                        time.sleep(0.5)
                        ref = os.path.join(workdir, f"{name}-{recorder}-ref{seen}.png")
                        wall = time.time()
                        screenshot(xvfb.display, ref, width, height)
                        checkpoints.append((wall, ref))
                    time.sleep(0.05)

            watcher = threading.Thread(target=take_references, daemon=True)
            watcher.start()
            result = record(recorder, BIN, xvfb.display, args.seconds, args, workdir, width, height, name)
            stop_refs = True
            watcher.join()
            scene.kill()
            # The idle scene is drawn before recording starts: its one reference is taken then.
            usable = [(w, r) for (w, r) in checkpoints if result["started"] + 0.5 < w < result["started"] + args.seconds - 0.5]
            if name == "idle" and not usable and checkpoints:
                usable = [(result["started"] + args.seconds / 2, checkpoints[0][1])]
            result["ssim"], result["psnr"] = quality(result, recorder, usable, workdir)
            result["checkpoints"] = len(usable)
            results[recorder] = result
        finally:
            xvfb.close()
    return results


def change_latency(args, workdir):
    """How late scene changes appear in our recording (rectangles scene, a change every second)."""
    xvfb = Xvfb(1920, 1080)
    try:
        events_path = os.path.join(workdir, "latency-events.jsonl")
        scene = start_scene(BIN, xvfb.display, "rectangles", 25, events_path, period=1)
        time.sleep(0.5)
        out = os.path.join(workdir, "latency")
        run([f"{BIN}/recorder-agent", "record", "--display", xvfb.display, "--duration", "20s", "--out", out,
             "--fps", str(args.fps), "--log-level", "warning"])
        scene.kill()
        video = sorted(os.path.join(out, f) for f in os.listdir(out))[0]
        start = parse_start(run([f"{BIN}/recorder-agent", "inspect", video]).stdout)
        pts = [float(x) for x in run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                      "packet=pts_time", "-of", "csv=p=0", video]).stdout.split()]
        frame_walls = [start + p for p in pts]
        lateness = []
        for event in read_events(events_path):
            t = event["wallTimeNanos"] / 1e9
            if t < start + 0.1 or t > start + 19.5:
                continue
            later = [w for w in frame_walls if w >= t]
            if later:
                lateness.append(later[0] - t)
        return lateness
    finally:
        xvfb.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--fps", type=float, default=5)
    parser.add_argument("--bitrate", type=int, default=300)
    parser.add_argument("--cpu-used", type=int, default=8)
    parser.add_argument("--scenes", default="idle,office,terminal,browser,typing,drag,video",
                        help="idle and office, and the busy ones: terminal, browser, typing, drag, video")
    parser.add_argument("--recorders", default="agent,ffmpeg", help="e.g. agent to skip the baseline while tuning")
    parser.add_argument("--no-latency", action="store_true", help="skip the change-latency run")
    args = parser.parse_args()
    global BIN
    BIN = build()
    workdir = tempfile.mkdtemp(prefix="recorder-bench-")
    minutes = args.seconds / 60
    ticks = int(args.seconds * args.fps)
    print(f"1920x1080 Xvfb, {args.seconds} s per run, {args.fps:g} fps, {args.bitrate} kbit/s, cpu-used {args.cpu_used}")
    print(f"{'scene':8} {'recorder':8} {'CPU s/min':>9} {'cores':>6} {'peak RSS MB':>11} {'MB/min':>7} "
          f"{'frames/ticks':>12} {'SSIM':>6} {'min PSNR':>8}")
    for name in args.scenes.split(","):
        results = scene_run(name, args, workdir)
        for recorder in results:
            r = results[recorder]
            ssim = f"{r['ssim']:.4f}" if r["ssim"] is not None else "n/a"
            psnr = f"{r['psnr']:.1f}" if r["psnr"] is not None else "n/a"
            print(f"{name:8} {recorder:8} {r['cpu'] / minutes:9.2f} {r['cpu'] / args.seconds:6.3f} {r['rss']:11.1f} "
                  f"{r['bytes'] / minutes / 1e6:7.2f} {r['frames']:>5}/{ticks:<6} {ssim:>6} {psnr:>8}")
        if len(results) < 2:
            continue
        agent, ffmpeg = results["agent"], results["ffmpeg"]
        print(f"{name:8} {'ratio':8} {agent['cpu'] / max(ffmpeg['cpu'], 1e-9):9.3f}x CPU, "
              f"{agent['rss'] / ffmpeg['rss']:.2f}x RSS, {agent['bytes'] / max(ffmpeg['bytes'], 1):.2f}x bytes "
              f"({agent['checkpoints']} reference screenshots)")
    lateness = [] if args.no_latency else change_latency(args, workdir)
    if lateness:
        print(f"change latency (agent, rectangles scene, {len(lateness)} changes): max {max(lateness) * 1000:.0f} ms, "
              f"mean {sum(lateness) / len(lateness) * 1000:.0f} ms; frame interval {1000 / args.fps:.0f} ms")
    if os.environ.get("KEEP") != "1":
        shutil.rmtree(workdir)
    else:
        print(f"files kept in {workdir}")


BIN = ""
if __name__ == "__main__":
    main()
