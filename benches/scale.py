#!/usr/bin/env python3
"""Scan at scale: orglake against the AWS-scale simulator (benches/sim/), next to the older
scripts' approach on the same simulator and the floor the simulator computes.

    scale.py ORGLAKE ORGLAKE_SIM [--accounts 100,1000,10000] [--regions 17] [--seed-up-to 1000]

For each size: a fresh simulator renders the organization (benches/sim/captured/moto_org.json,
seed 1); orglake scans every top-level OU; its wall time and peak RSS (wait4, and per phase from its log) are measured;
the lake's row counts are compared with the simulator's truth; the simulator's calls,
throttles, CPU time and timer lateness say whether it kept up (a run whose timers fired
more than 20 ms late at the 99th percentile, or whose simulator used 90 % of its core, is
marked invalid). The seed approach runs on a fresh simulator of the same organization up to
--seed-up-to accounts (seed 000's EC2 scan and seed 001's IAM calls, measured; seed 002's
report polls, one minute apart, computed from the report times) and is extrapolated
linearly in accounts above it (said so). Prints a Markdown table and one JSON line per size.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = pathlib.Path(os.environ.get("ORGLAKE_VENV", ROOT / ".venv"))
PYTHON = str(VENV / "bin" / "python")
CAPTURE = ROOT / "benches/sim/captured/moto_org.json"
TABLES = ["ec2_instances", "iam_users", "iam_credential_report", "ec2_security_groups"]


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def simulator(sim, accounts, regions):
    process = subprocess.Popen([sim, "--capture", str(CAPTURE), "--accounts", str(accounts), "--regions", str(regions)],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        raise SystemExit(f"the simulator did not start: {line!r}")
    return process, f"http://127.0.0.1:{line.split()[-1]}"


def timed(command, env):
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout


def orglake_run(orglake, endpoint, ous, lake, env):
    """Runs one orglake scan: its wall time, peak RSS (wait4) and the peak of each phase
    (the scan and each commit phase, from its JSON log lines)."""
    command = [orglake, "--log-format", "json", "run", "--endpoint-url", endpoint, "--warehouse", lake]
    for ou in ous:
        command += ["--ou-id", ou]
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        log.seek(0)
        stderr = log.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"orglake did not complete (every account ok):\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1024, phase_peaks(stderr)


def phase_peaks(log):
    """The scan's peak RSS and the largest commit phase's, from orglake's JSON log."""
    scan, after_scan, in_use, commit = None, None, None, (None, None)
    for line in log.splitlines():
        try:
            fields = json.loads(line).get("fields", {})
        except ValueError:
            continue
        peak = fields.get("peak_rss_mib")
        if fields.get("message") == "scan done":
            scan, after_scan, in_use = peak, fields.get("rss_after_mib"), fields.get("heap_in_use_mib")
        elif fields.get("message") == "commit phase done" and peak is not None and peak > (commit[1] or -1):
            commit = (fields.get("phase"), peak)
    return {"scan_peak_rss_mib": scan, "rss_after_scan_mib": after_scan, "heap_in_use_after_scan_mib": in_use,
            "commit_peak_rss_mib": commit[1], "commit_peak_phase": commit[0]}


def lake_rows(orglake, lake, env):
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM latest_{t}" for t in TABLES)
    _, out = timed([orglake, "query", "--format", "json", "--warehouse", lake, sql], env)
    return {row["t"]: row["n"] for row in map(json.loads, out.strip().splitlines())}


def seed_approach(endpoint, ous, regions, env):
    """Seed 000 (EC2) and seed 001 (IAM, seven calls per user), measured on the simulator."""
    wall = 0.0
    with tempfile.TemporaryDirectory() as out:
        for ou in ous:
            elapsed, _ = timed([PYTHON, str(ROOT / "benches/seed_approach.py"), endpoint, ou, ",".join(regions),
                                os.path.join(out, "ec2.csv")], env)
            wall += elapsed
            elapsed, _ = timed([PYTHON, str(ROOT / "benches/seed_iam.py"), endpoint, ou], env)
            wall += elapsed
    return wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("orglake")
    parser.add_argument("sim")
    parser.add_argument("--accounts", default="100,1000,10000")
    parser.add_argument("--regions", type=int, default=17)
    parser.add_argument("--seed-up-to", type=int, default=1000)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORGLAKE_", "AWS_"))}
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true")
    lines, table = [], []
    seed_rate = None
    for accounts in [int(a) for a in args.accounts.split(",")]:
        process, endpoint = simulator(args.sim, accounts, args.regions)
        try:
            truth = get(endpoint + "/__sim/truth")
            with tempfile.TemporaryDirectory() as lake:
                wall, rss, peaks = orglake_run(args.orglake, endpoint, truth["top_ous"], lake, env)
                stats = get(endpoint + "/__sim/stats")
                rows = lake_rows(args.orglake, lake, env)
        finally:
            process.kill()
        lost = sum(max(0, truth["rows"][t] - rows.get(t, 0)) for t in TABLES)
        saturated = stats["timer_late_p99_ms"] > 20 or stats["cpu_s"] > 0.9 * wall
        report_wait = truth.get("seed_report_wait_s", 0.0)
        if accounts <= args.seed_up_to:
            process, endpoint = simulator(args.sim, accounts, args.regions)
            try:
                regions = get(endpoint + "/__sim/truth")["regions"]
                measured = seed_approach(endpoint, truth["top_ous"], regions, env)
            finally:
                process.kill()
            seed_rate = measured / accounts
            seed_note = "measured"
        else:
            measured = seed_rate * accounts
            seed_note = f"extrapolated from {args.seed_up_to} accounts"
        seed = measured + report_wait
        floor = truth["floor"]["floor_s"]
        line = {"accounts": accounts, "regions": args.regions, "orglake_s": round(wall, 2), "floor_s": round(floor, 2),
                "seed_s": round(seed, 1), "seed_scan": seed_note, "peak_rss_mib": round(rss), "rows_lost": lost, **peaks,
                "calls": stats["calls"], "throttled": stats["throttled"], "sim_cpu_s": round(stats["cpu_s"], 1), "sim_calls_per_s": round(stats["calls"] / wall),
                "sim_timer_late_p99_ms": stats["timer_late_p99_ms"], "sim_saturated": saturated, "truth": truth["rows"],
                "floor_parts": truth["floor"]}
        lines.append(line)
        table.append(f"| {accounts} x {args.regions} | {wall:.1f} s | {floor:.1f} s | {wall / floor:.2f}x | {seed:.0f} s ({seed_note}) | "
                     f"{seed / wall:.0f}x | {rss:.0f} MiB (scan {peaks['scan_peak_rss_mib']}, commit {peaks['commit_peak_rss_mib']}) | {stats['calls']} | {stats['throttled']} | {lost} | "
                     f"{'SATURATED: invalid' if saturated else 'no'} |")
        print(json.dumps(line), flush=True)
    print("\n| accounts x regions | orglake | floor | vs floor | seed approach | speed-up | peak RSS | calls | throttled | rows lost | simulator saturated |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(table))


if __name__ == "__main__":
    sys.exit(main())
