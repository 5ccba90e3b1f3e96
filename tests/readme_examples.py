#!/usr/bin/env python3
"""Runs the README's command blocks as written, so the README cannot drift from the code.

Usage: tests/readme_examples.py path/to/dcp   (run from the repo root; ctest runs it)

A ```sh block is all commands; in any other block the lines after "$ " are (with their "\\"
continuation lines), the rest being output. The blocks run in order in one scratch folder that
sees the repo's folders and build/cli/dcp, so a later block may use a file an earlier one wrote.
Each command must exit 0. An HTML comment just before a block changes that, explicitly in the
README's source:
  <!-- readme-test: skip: REASON -->   the block is not run (it takes minutes, or installs);
  <!-- readme-test: exit 2 -->          every command of the block must fail with status 2.
Every repo path the README names (arch/..., workloads/..., tests/..., ...) must exist. A build
without torch skips the learning commands (train, eval, map, transfer).
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ["arch", "workloads", "tests", "mapper", "scripts", "dataflow", "sim", "cli", "common"]
MARKER = re.compile(r"<!-- readme-test: (skip: .+|exit 2) -->")


def blocks(lines):
    """(first line number, marker, commands) per fenced block."""
    marker, index = None, 0
    while index < len(lines):
        line = lines[index]
        found = MARKER.search(line)
        if found:
            marker = found.group(1)
        if line.startswith("```"):
            shell = line.strip() == "```sh"
            start, commands, index = index + 1, [], index + 1
            while not lines[index].startswith("```"):
                text = lines[index]
                if shell or text.startswith("$ "):
                    command = text[2:] if text.startswith("$ ") else text
                    while command.endswith("\\"):
                        index += 1
                        command = command[:-1] + lines[index].strip()
                    if command.strip():
                        commands.append(command)
                index += 1
            yield start, marker, commands
            marker = None
        elif line.strip() and not found:
            marker = None
        index += 1


def main():
    dcp = os.path.abspath(sys.argv[1])
    with open(os.path.join(REPO, "README.md")) as readme:
        lines = readme.read().split("\n")
    failures = []
    named = set(re.findall(r"(?<![\w/.])(?:%s)/[A-Za-z0-9_./*-]*[A-Za-z0-9_*]" % "|".join(FOLDERS),
                           "\n".join(lines)))
    for path in sorted(named):
        if not glob.glob(os.path.join(REPO, path)):
            failures.append(f"README names {path}, which does not exist")
    version = subprocess.run([dcp, "--version"], capture_output=True, text=True).stdout
    learning = re.compile(r"dcp (train|eval|map|transfer) ") if "libtorch none" in version else None
    ran = skipped = 0
    with tempfile.TemporaryDirectory() as scratch:
        for folder in FOLDERS:
            os.symlink(os.path.join(REPO, folder), os.path.join(scratch, folder))
        os.makedirs(os.path.join(scratch, "build", "cli"))
        os.symlink(dcp, os.path.join(scratch, "build", "cli", "dcp"))
        for start, marker, commands in blocks(lines):
            if not commands:
                continue
            if marker and marker.startswith("skip"):
                skipped += len(commands)
                continue
            want = 2 if marker == "exit 2" else 0
            for command in commands:
                if learning and learning.search(command):
                    skipped += 1
                    continue
                ran += 1
                done = subprocess.run(["bash", "-c", command], cwd=scratch, capture_output=True,
                                      text=True)
                if done.returncode != want:
                    failures.append(f"README.md:{start}: `{command}` exited {done.returncode}, "
                                    f"not {want}: {done.stderr.strip()[-300:]}")
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    print(f"{ran} README commands run, {skipped} skipped by their marker, "
          f"{len(named)} repo paths checked, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
