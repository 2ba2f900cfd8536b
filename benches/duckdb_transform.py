#!/usr/bin/env python3
"""The transforms of one orglake commit, run by DuckDB: the same SQL over the same files.

    duckdb_transform.py KEPT_DIR LAKE OUT_DIR

KEPT_DIR is what `orglake bench-load --keep-inputs KEPT_DIR` wrote before its commit: the
staging Parquet, the run's inputs and `sql.json`, every SQL text of the commit's transforms
phase in the order the commit runs them. LAKE is the lake that commit wrote into; its own
run is left out here, so the history merge reads the same previous run. DuckDB then does
what that phase does: the run-set and input views, `previous_<table>` cut to the previous
run's partitions, each table's transform written as zstd Parquet, then the findings over
the written tables. Prints one JSON line: seconds (from the first statement to the last
file closed) and the rows written per table.

Where DuckDB spells a function differently, a macro maps the name (`MACROS`); the SQL text
itself is not changed.
"""
import json
import pathlib
import sys
import time

import duckdb

# DataFusion names that DuckDB spells otherwise.
MACROS = [
    "CREATE MACRO array_join(a, sep) AS array_to_string(a, sep)",
]


def files(folder):
    """A read_parquet() of every Parquet file under folder, or None when there is none."""
    folder = pathlib.Path(folder)
    if not any(folder.rglob("*.parquet")):
        return None
    return f"'{folder}/**/*.parquet'"


def main():
    kept, lake, out = (pathlib.Path(a) for a in sys.argv[1:4])
    sql = json.loads((kept / "sql.json").read_text())
    run_id = sql["run_id"]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    for macro in MACROS:
        con.execute(macro)

    # The lake as it stood before this run: every table's files, hive-partitioned by date.
    for table in sorted(p.name for p in (kept / "lake_schemas").iterdir()):
        source = files(lake / table)
        if source is None:  # no file yet: the table's columns, no rows
            empty = files(kept / "lake_schemas" / table)
            con.execute(f"CREATE VIEW raw_{table} AS SELECT *, NULL::VARCHAR AS snapshot_date FROM read_parquet({empty})")
            continue
        con.execute(
            f"CREATE VIEW raw_{table} AS SELECT * FROM read_parquet({source}, hive_partitioning = true, "
            f"hive_types_autocast = false) WHERE run_id <> '{run_id}'"
        )
    # This run's inputs, as the commit registers them.
    for name, folder in [("run_params", "inputs/run_params"), ("run_accounts", "inputs/accounts"),
                         ("run_account_status", "inputs/account_status")]:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files(kept / folder)})")
    for staged in sorted(p.name for p in (kept / "staging").iterdir() if p.is_dir()):
        source = files(kept / "staging" / staged)
        if source is None:
            raise SystemExit(f"{staged}: no staging file (bench-load stages every table it transforms)")
        con.execute(f"CREATE VIEW {staged} AS SELECT * FROM read_parquet({source})")

    for _, view in sql["run_set_views"]:
        con.execute(view)
    for view in sql["input_views"]:
        con.execute(view)
    # previous_runs once, and the previous rows cut to its partitions (as register_previous).
    con.execute("CREATE TABLE previous_runs_kept AS SELECT * FROM previous_runs")
    con.execute("CREATE OR REPLACE VIEW previous_runs AS SELECT * FROM previous_runs_kept")
    dates = [r[0] for r in con.execute("SELECT DISTINCT snapshot_date FROM previous_runs_kept").fetchall()]
    runs = [r[0] for r in con.execute("SELECT DISTINCT run_id FROM previous_runs_kept").fetchall()]
    in_list = lambda values: ", ".join(f"'{v}'" for v in values) or "NULL"
    for table in sql["tables_with_accounts"]:
        con.execute(
            f"CREATE VIEW previous_partitions_{table} AS SELECT * FROM raw_{table} "
            f"WHERE snapshot_date IN ({in_list(dates)}) AND run_id IN ({in_list(runs)})"
        )
        con.execute(sql["previous_rows_template"].replace("{table}", table))

    rows = {}
    for table, select in sql["transforms"]:
        rows[table] = con.execute(
            f"COPY (\n{select}\n) TO '{out}/{table}.parquet' (FORMAT parquet, COMPRESSION zstd)"
        ).fetchone()[0]
        con.execute(f"CREATE VIEW run_{table} AS SELECT * FROM read_parquet('{out}/{table}.parquet')")
    rows["findings"] = 0
    for i, (_, finding_rows) in enumerate(sql["findings"]):
        rows["findings"] += con.execute(
            f"COPY (\n{finding_rows}\n) TO '{out}/findings_{i}.parquet' (FORMAT parquet, COMPRESSION zstd)"
        ).fetchone()[0]
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


if __name__ == "__main__":
    main()
