#!/usr/bin/env python3
"""Transform + load and query benchmark on a large synthetic snapshot. Prints Markdown.

    load_and_query.py ORGLAKE_BINARY [--instances 1000000] [--users 500000] [--accounts 1000]
                      [--repeat 3] [--rounds 3]

1. `orglake bench-load` stages a synthetic snapshot the way extraction stages one (rows ->
   Arrow record batches -> local staging Parquet) and commits it with the run's own code:
   the DataFusion transforms of queries/transform/ (joins, history merge, cutoff,
   findings), zstd Parquet into the lake, the CSV exports and the manifest. Timed inside
   the process (stage and commit separately); peak memory is the process's maximum RSS.
2. DuckDB runs day 2's transforms: the same SQL (sql.json, written by `bench-load
   --keep-inputs`) over the same staging files and the same previous run, into zstd
   Parquet (benches/duckdb_transform.py), timed beside orglake's transforms phase.
   pyarrow writes the same rows: it reads the lake's ec2_instances, iam_users and
   iam_credential_report tables into memory (not timed), then writes them as zstd Parquet
   (timed). That is only the "load" part of what orglake's commit does.
   Day 2 and DuckDB's two runs are then repeated (--rounds, each day 2 over a copy of day
   1's lake), and the medians compared: a single run's time varies by a tenth on both sides.
3. The same queries over the latest snapshot: through `orglake query` on its `latest_`
   views (a whole process: start, list the lake, plan, pick the latest complete run, run,
   print), and through DuckDB over that snapshot's files (in one Python process, timed
   around the query alone, and as a whole process for comparison). Best of --repeat.

Two days are committed into one lake, so the second commit does what a nightly run does:
its history merge reads the first day's instances.

   Rows -> Arrow per staging table (the conversion every extracted row goes through), and
   the CSV exports next to DuckDB's `COPY ... TO` of the same day's lake rows.

4. A lake's age (--age-days N, default 365, 0 to skip): N daily snapshots of a smaller
   organization (--age-instances, --age-users) in a fresh lake. Day 1 and the reported days
   (2, 30, N) are `orglake bench-load` commits; the days between are `orglake bench-replay`
   copies of the day before, written through the lake's own writers (the files a commit
   writes, timestamps moved a day per copy) because 365 commits would take most of an hour.
   Each reported day's commit time, the commit process's peak RSS and one `latest_` query
   (whole process) side by side: a commit whose cost grew with the lake's age shows here.
"""
import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import shutil
import statistics
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = pathlib.Path(os.environ.get("ORGLAKE_VENV", ROOT / ".venv"))
PYTHON = str(VENV / "bin" / "python")

QUERIES = [
    ("instances by state", "SELECT state, count(*) AS n FROM {ec2} GROUP BY state ORDER BY n DESC"),
    ("running instances per owner, top 10",
     "SELECT owner_tag, count(*) AS n FROM {ec2} WHERE state = 'running' GROUP BY owner_tag ORDER BY n DESC, owner_tag LIMIT 10"),
    ("terminated instances of one account",
     "SELECT instance_id, region, terminated_at FROM {ec2} WHERE account_id = '100000000020' AND state = 'terminated' ORDER BY instance_id"),
    ("users without MFA per account, top 5",
     "SELECT account_id, count(*) AS n FROM {users} WHERE mfa_enabled = false GROUP BY account_id ORDER BY n DESC, account_id LIMIT 5"),
    ("instances in accounts with users without MFA, per region",
     "SELECT i.region, count(*) AS n FROM {ec2} i JOIN (SELECT account_id, count(*) AS users FROM {users} WHERE mfa_enabled = false GROUP BY account_id) u ON u.account_id = i.account_id GROUP BY i.region ORDER BY i.region"),
]


def check_exports(lake, as_of, report):
    """Fails unless the commit wrote a CSV export of every table it wrote (the tag plan's
    only with tagging): a commit logs a failed export and stands, a benchmark must not."""
    day = as_of[:10]
    missing = [t for t in report["table_rows"] if t != "tag_actions"
               and not list((lake / "exports" / t / f"snapshot_date={day}").glob("*.csv"))]
    if missing:
        raise SystemExit(f"the commit of {day} wrote no CSV export of {', '.join(missing)}")


def bench_load(args, env, lake, as_of, instances, users, keep=None):
    """One `orglake bench-load` commit of a synthetic day into `lake` (its inputs kept in
    `keep` when given): (seconds, peak RSS MiB, its JSON report, seconds per commit phase),
    after checking that it wrote every export."""
    keep_inputs = ["--keep-inputs", str(keep)] if keep is not None else []
    seconds, rss, out = run_measured(
        [args.orglake, "bench-load", "--instances", str(instances), "--users", str(users),
         "--org-accounts", str(args.accounts), "--warehouse", str(lake), "--as-of", as_of, *keep_inputs], env)
    report = json.loads(out.strip().splitlines()[-1])
    check_exports(lake, as_of, report)
    return seconds, rss, report, {p["name"]: p["seconds"] for p in report["commit_phases"]}


def run_measured(command, env=None):
    """Runs a command; returns (seconds, peak RSS MiB, stdout), RSS from wait4."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        stdout = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{command[0]} failed: {errors.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout.decode()


PYARROW_WRITE = r"""
import json, sys, time, pathlib
import pyarrow.dataset as ds, pyarrow.parquet as pq
lake, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
day = "snapshot_date=2026-11-24"
tables = {t: ds.dataset(lake / t / day, format="parquet").to_table()
          for t in ("ec2_instances", "iam_users", "iam_credential_report")}
started = time.perf_counter()
rows = 0
for name, table in tables.items():
    pq.write_table(table, out / f"{name}.parquet", compression="zstd", compression_level=3)
    rows += table.num_rows
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
"""

# Day 2's lake rows as CSV, by DuckDB: each table's rows as they are (a plain COPY), or,
# given orglake's export SQL folder (queries/exports/), through that SQL: the same renames,
# column order and sort. A table without a file of its own is exported whole, as orglake does.
DUCKDB_CSV = r"""
import json, sys, time, pathlib
import duckdb
lake, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
exports = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else None
day = "snapshot_date=2026-11-24"
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
started = time.perf_counter()
rows = 0
for table in sorted(p.parent.name for p in lake.glob(f"*/{day}")):
    files = f"{lake}/{table}/{day}/*.parquet"
    con.execute(f"CREATE VIEW run_{table} AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
    sql = f"SELECT * FROM run_{table}"
    if exports is not None and (exports / f"{table}.sql").exists():
        sql = (exports / f"{table}.sql").read_text()
        sql = "\n".join(l for l in sql.splitlines() if not l.lstrip().startswith("--"))
    rows += con.execute(f"COPY (\n{sql}\n) TO '{out}/{table}.csv' (HEADER)").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
"""

DUCKDB_QUERY = r"""
import json, sys, time
import duckdb
lake, sql, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
for name in ("ec2_instances", "iam_users"):
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{lake}/{name}/snapshot_date=2026-11-24/*.parquet')")
best = None
for _ in range(repeat):
    started = time.perf_counter()
    rows = con.execute(sql).fetchall()
    took = time.perf_counter() - started
    best = took if best is None else min(best, took)
print(json.dumps({"seconds": best, "rows": len(rows)}))
"""


AGE_QUERY = "SELECT state, count(*) AS n FROM latest_ec2_instances GROUP BY state ORDER BY n DESC"


def age_series(args, env):
    """A lake's age: day 1 and each reported day are `bench-load` commits; the days between
    are `bench-replay` copies of the day before (the same files a commit writes, written
    much faster than by a commit each). A table row for each reported day."""
    report_days = sorted({d for d in (1, 2, 30, 365) if d <= args.age_days} | {args.age_days})
    print(f"## A lake's age: {args.age_days} daily snapshots of {args.age_instances:,} instances, "
          f"{args.age_users:,} users, {args.accounts:,} accounts\n")
    print("| day | commit | of which transforms and lake Parquet | changes | CSV exports | peak RSS | latest_ query (whole process) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    replayed, replay_seconds = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="orglake-age-") as tmp:
        lake = pathlib.Path(tmp) / "lake"
        day = 1
        while day <= args.age_days:
            if day not in report_days:
                gap = min(d for d in report_days if d > day) - day
                took, _, _ = run_measured([args.orglake, "bench-replay", "--days", str(gap), "--warehouse", str(lake)], env)
                replayed, replay_seconds = replayed + gap, replay_seconds + took
                day += gap
                continue
            as_of = (datetime.date(2026, 1, 1) + datetime.timedelta(days=day - 1)).isoformat() + "T06:00:00Z"
            _, rss, report, phases = bench_load(args, env, lake, as_of, args.age_instances, args.age_users)
            best = min(run_measured([args.orglake, "query", "--format", "json", "--warehouse", str(lake), AGE_QUERY], env)[0]
                       for _ in range(args.repeat))
            print(f"| {day} | {report['commit_seconds']:.2f} s | {phases.get('transforms and lake Parquet', 0):.2f} s | "
                  f"{phases.get('changes', 0):.2f} s | {phases.get('CSV exports', 0):.2f} s | {rss:.0f} MiB | {best:.2f} s |",
                  flush=True)
            print(json.dumps({"bench": "age", "day": day, "commit_s": round(report["commit_seconds"], 3),
                              "peak_rss_mib": round(rss), "latest_query_s": round(best, 3)}), file=sys.stderr)
            day += 1
    print(f"\n{replayed} days between them copied by `orglake bench-replay` in {replay_seconds:.1f} s.\n")


def day2_round(args, env, tmp, day1, index):
    """Day 2 once more over a copy of day 1's lake, then DuckDB's transform of its inputs and
    COPY of its rows: one more round of the comparison, alternating the two sides."""
    lake, kept, duck_dir, csv_dir = (tmp / f"round{index}-{part}" for part in ("lake", "kept", "duckdb", "csv"))
    shutil.copytree(day1, lake)
    _, rss, _, phases = bench_load(args, env, lake, "2026-11-24T06:00:00Z", args.instances, args.users, kept)
    duck_dir.mkdir()
    _, _, duck_out = run_measured([PYTHON, str(ROOT / "benches" / "duckdb_transform.py"), str(kept), str(lake), str(duck_dir)])
    csv_dir.mkdir()
    _, _, copy_out = run_measured([PYTHON, "-c", DUCKDB_CSV, str(lake), str(csv_dir)])
    for done in (lake, kept, duck_dir, csv_dir):
        shutil.rmtree(done)
    return {"orglake_transforms": phases.get("transforms and lake Parquet"),
            "duckdb_transforms": json.loads(duck_out.strip().splitlines()[-1])["seconds"],
            "orglake_csv": phases.get("CSV exports"),
            "duckdb_copy": json.loads(copy_out.strip().splitlines()[-1])["seconds"], "peak_rss_mib": rss}


def print_rounds(rounds):
    """The day-2 rounds side by side, and the ratio of their medians: one round's times vary by
    a tenth from run to run on a shared machine, on both sides."""
    print(f"Day 2 in {len(rounds)} rounds (each: orglake's commit over a copy of day 1, then DuckDB's "
          f"transform of the same inputs and `COPY` of the same rows):\n")
    print("| round | transforms + lake Parquet: orglake / DuckDB | CSV: orglake exports / DuckDB `COPY` | peak RSS |")
    print("| --- | --- | --- | --- |")
    for i, r in enumerate(rounds, 1):
        print(f"| {i} | {r['orglake_transforms']:.2f} / {r['duckdb_transforms']:.2f} s "
              f"({r['orglake_transforms'] / r['duckdb_transforms']:.2f}x) | {r['orglake_csv']:.2f} / "
              f"{r['duckdb_copy']:.2f} s ({r['orglake_csv'] / r['duckdb_copy']:.2f}x) | {r['peak_rss_mib']:.0f} MiB |")
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print(f"| median | {median['orglake_transforms']:.2f} / {median['duckdb_transforms']:.2f} s "
          f"({median['orglake_transforms'] / median['duckdb_transforms']:.2f}x) | {median['orglake_csv']:.2f} / "
          f"{median['duckdb_copy']:.2f} s ({median['orglake_csv'] / median['duckdb_copy']:.2f}x) | "
          f"{median['peak_rss_mib']:.0f} MiB |\n")
    print(json.dumps({"bench": "rounds", "rounds": rounds, "median": median}), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("orglake")
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=500_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3,
                        help="day-2 commits, each beside DuckDB's transform and COPY, whose medians are compared")
    parser.add_argument("--age-days", type=int, default=365, help="days of the age series (0: skip it)")
    parser.add_argument("--age-instances", type=int, default=200_000)
    parser.add_argument("--age-users", type=int, default=50_000)
    parser.add_argument("--skip-snapshot", action="store_true", help="only the age series")
    args = parser.parse_args()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true")
    if args.age_days > 0:
        age_series(args, env)
    if args.skip_snapshot:
        return

    with tempfile.TemporaryDirectory(prefix="orglake-load-") as tmp:
        lake = pathlib.Path(tmp) / "lake"
        input_rows = args.instances + 2 * args.users
        print(f"## Transform + load: {args.instances:,} instances, {args.users:,} users "
              f"(+ {args.users:,} credential-report lines), {args.accounts:,} accounts\n")
        print("| step | seconds | input rows/s | peak RSS |")
        print("| --- | --- | --- | --- |")
        # Day 1 starts the lake; day 2 is a nightly run: its transform merges with day 1.
        kept = pathlib.Path(tmp) / "kept"
        day1 = pathlib.Path(tmp) / "day1"
        for day, as_of in (("day 1 (empty lake)", "2026-11-23T06:00:00Z"), ("day 2 (merges day 1)", "2026-11-24T06:00:00Z")):
            # Day 2 also keeps what its transforms read, for DuckDB to run the same SQL on.
            keep = kept if day.startswith("day 2") else None
            seconds, rss, report, phases = bench_load(args, env, lake, as_of, args.instances, args.users, keep)
            print(f"| orglake {day}: stage (rows -> Arrow -> staging Parquet) | {report['stage_seconds']:.1f} | "
                  f"{input_rows / report['stage_seconds']:,.0f} | |")
            print(f"| orglake {day}: commit (transforms, lake Parquet, CSV exports, manifest) | "
                  f"{report['commit_seconds']:.1f} | {report['rows_per_second']:,.0f} | |")
            for phase in report["commit_phases"]:
                peak = f"{phase['peak_rss_mib']} MiB" if phase["peak_rss_mib"] is not None else ""
                print(f"| &nbsp;&nbsp;of which {phase['name']} | {phase['seconds']:.1f} | | {peak} |")
            print(f"| orglake {day}: whole process | {seconds:.1f} | {input_rows / seconds:,.0f} | {rss:.0f} MiB |")
            if day.startswith("day 1"):
                # The lake of day 1 as it was, for the later rounds of day 2.
                shutil.copytree(lake, day1)
        day2_rss = rss

        duck_dir = pathlib.Path(tmp) / "duckdb-transform"
        duck_dir.mkdir()
        duck_seconds, duck_rss, duck_out = run_measured(
            [PYTHON, str(ROOT / "benches" / "duckdb_transform.py"), str(kept), str(lake), str(duck_dir)])
        duck = json.loads(duck_out.strip().splitlines()[-1])
        duck_transform_s = duck["seconds"]
        both = {t: (report["table_rows"].get(t), n) for t, n in duck["rows"].items()}
        differ = {t: pair for t, pair in both.items() if pair[0] != pair[1]}
        print(f"| DuckDB: day 2's transforms (the same SQL over the same staging files and previous run) into zstd Parquet, "
              f"findings included | {duck['seconds']:.1f} | {input_rows / duck['seconds']:,.0f} | {duck_rss:.0f} MiB |")
        print(f"\nDay 2, transforms and lake Parquet: orglake {phases.get('transforms and lake Parquet', 0):.1f} s "
              f"(plus {phases.get('bucket plan', 0):.1f} s planning the buckets), DuckDB {duck['seconds']:.1f} s; "
              + ("rows per table the same in both." if not differ else f"rows differ (orglake, DuckDB): {differ}"))
        print(json.dumps({"bench": "transform", "orglake_s": phases.get("transforms and lake Parquet"),
                          "orglake_bucket_plan_s": phases.get("bucket plan"), "duckdb_s": round(duck["seconds"], 3),
                          "duckdb_peak_rss_mib": round(duck_rss), "rows_differ": differ}), file=sys.stderr)

        out_dir = pathlib.Path(tmp) / "pyarrow"
        out_dir.mkdir()
        py_seconds, py_rss, py_out = run_measured([PYTHON, "-c", PYARROW_WRITE, str(lake), str(out_dir)])
        py = json.loads(py_out)
        print(f"| pyarrow: write the same three tables (zstd), in memory first | {py['seconds']:.1f} | "
              f"{py['rows'] / py['seconds']:,.0f} | {py_rss:.0f} MiB |")
        print(f"\nLake tables written by orglake's day 2: {json.dumps(report['table_rows'])}\n")
        print(f"Rows -> Arrow on day 2 (staging, one core; rows made first, Parquet written by the sink's task, "
              f"neither counted):\n")
        print("| staging table | rows | seconds | rows/s |")
        print("| --- | --- | --- | --- |")
        for staged in report["to_arrow"]:
            print(f"| {staged['table']} | {staged['rows']:,} | {staged['seconds']:.2f} | {staged['rows_per_second']:,.0f} |")
            print(json.dumps({"bench": "to_arrow", **staged}), file=sys.stderr)
        csv_dir = pathlib.Path(tmp) / "duckdb-csv"
        csv_dir.mkdir()
        duck_seconds, duck_rss, duck_out = run_measured([PYTHON, "-c", DUCKDB_CSV, str(lake), str(csv_dir)])
        duck = json.loads(duck_out.strip().splitlines()[-1])
        exports = phases.get("CSV exports", 0)
        print(f"\nCSV of day 2's lake rows ({duck['rows']:,} rows, every table): orglake's CSV exports phase "
              f"{exports:.1f} s; DuckDB `COPY (SELECT * FROM read_parquet(...)) TO ... (HEADER)` {duck['seconds']:.1f} s "
              f"(peak RSS {duck_rss:.0f} MiB)\n")
        same_dir = pathlib.Path(tmp) / "duckdb-export-sql"
        same_dir.mkdir()
        same_seconds, same_rss, same_out = run_measured(
            [PYTHON, "-c", DUCKDB_CSV, str(lake), str(same_dir), str(ROOT / "queries" / "exports")])
        same = json.loads(same_out.strip().splitlines()[-1])
        if same["rows"] != duck["rows"]:
            raise SystemExit(f"DuckDB's run of the export SQL wrote {same['rows']} rows, its plain COPY {duck['rows']}")
        print(f"The same rows through orglake's own export SQL (`queries/exports/`: renamed, ordered and sorted "
              f"columns), run by DuckDB into CSV: {same['seconds']:.1f} s (peak RSS {same_rss:.0f} MiB)\n")
        print(json.dumps({"bench": "csv", "orglake_s": round(exports, 3), "duckdb_s": round(duck["seconds"], 3),
                          "duckdb_export_sql_s": round(same["seconds"], 3), "rows": duck["rows"]}), file=sys.stderr)

        rounds = [{"orglake_transforms": phases.get("transforms and lake Parquet"), "duckdb_transforms": duck_transform_s,
                   "orglake_csv": exports, "duckdb_copy": duck["seconds"], "peak_rss_mib": day2_rss}]
        rounds += [day2_round(args, env, pathlib.Path(tmp), day1, index) for index in range(2, args.rounds + 1)]
        print_rounds(rounds)

        print("## Queries over that snapshot\n")
        print("| query | orglake query (whole process) | DuckDB (query only) | DuckDB (whole process) | rows |")
        print("| --- | --- | --- | --- | --- |")
        for title, template in QUERIES:
            orglake_sql = template.format(ec2="latest_ec2_instances", users="latest_iam_users")
            duck_sql = template.format(ec2="ec2_instances", users="iam_users")
            best = None
            for _ in range(args.repeat):
                took, _, out = run_measured([args.orglake, "query", "--format", "json", "--warehouse", str(lake), orglake_sql], env)
                best = took if best is None else min(best, took)
            rows = len([line for line in out.splitlines() if line.strip()])
            whole, _, duck_out = run_measured([PYTHON, "-c", DUCKDB_QUERY, str(lake), duck_sql, str(args.repeat)])
            duck = json.loads(duck_out)
            if duck["rows"] != rows:
                raise SystemExit(f"{title}: orglake returned {rows} rows, DuckDB {duck['rows']}")
            print(f"| {title} | {best:.2f} s | {duck['seconds']:.2f} s | {whole:.2f} s | {rows} |")


if __name__ == "__main__":
    main()
