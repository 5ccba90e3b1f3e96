#!/usr/bin/env python3
"""Checks on dcp trace stores for scripts/fault_tests.

  store_check.py integrity STORE       prints PRAGMA integrity_check ("ok" when sound)
  store_check.py rows STORE            prints the samples rows (0 when the table is not there yet)
  store_check.py same EXPECTED ACTUAL  exit 1 unless both hold the same rows in every table,
                                       samples compared by sample_index: lost, extra and
                                       changed rows are listed
"""
import sqlite3
import sys


def rows(path):
    try:
        return sqlite3.connect(path).execute("SELECT count(*) FROM samples").fetchone()[0]
    except sqlite3.Error:
        return 0


def same(expected_path, actual_path):
    expected, actual = (sqlite3.connect(path) for path in (expected_path, actual_path))
    problems = []
    for table in ("meta", "archs", "layers"):
        query = f"SELECT * FROM {table} ORDER BY 1"
        if expected.execute(query).fetchall() != actual.execute(query).fetchall():
            problems.append(f"table {table} differs")
    # sample_index is the samples table's primary key, so a sample written twice shows up as an
    # extra row (drawn again under another index) or a changed one.
    query = "SELECT * FROM samples ORDER BY sample_index"
    want = {row[0]: row for row in expected.execute(query)}
    have = {row[0]: row for row in actual.execute(query)}
    lost = sorted(want.keys() - have.keys())
    extra = sorted(have.keys() - want.keys())
    changed = sorted(i for i in want.keys() & have.keys() if want[i] != have[i])
    for name, indices in (("lost", lost), ("extra", extra), ("changed", changed)):
        if indices:
            problems.append(f"{len(indices)} {name} rows, e.g. sample_index {indices[:5]}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return not problems


def main():
    command, *paths = sys.argv[1:]
    if command == "integrity":
        print(sqlite3.connect(paths[0]).execute("PRAGMA integrity_check").fetchone()[0])
    elif command == "rows":
        print(rows(paths[0]))
    elif command == "same":
        sys.exit(0 if same(*paths) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
