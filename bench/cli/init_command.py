"""``brewbench init [DIR]``: a starter lab project of one's own (bench.starter)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..starter import write_starter

__all__ = ["add_init_parser"]


def add_init_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init", help="write a starter lab project: pyproject.toml, a data contract, a test",
        description="Write a pytest project that uses brewbench: pyproject.toml with a "
        "[tool.brewbench] table, contracts/cm-500.toml (a copy of the shipped contract) and "
        "tests/test_example.py. Existing files are never overwritten.")
    parser.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR",
                        help="where to write it (default: the current folder)")
    parser.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    for path in write_starter(args.folder):
        print(f"wrote {path}")
    where = "" if args.folder == Path(".") else f"cd {args.folder} && "
    print(f"next: {where}python -m pytest   (test_latte_records_no_owner fails on purpose on "
          "firmware 2.1: see tests/test_example.py)")
    return 0
