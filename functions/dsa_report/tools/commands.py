"""The installed `dsa-report` command: the product's commands (app.cli) plus the development tools' `demo`
and `generate-data`. Not in the Lambda bundle."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from ..app.cli import UsageError, out_folder, period_arg
from ..app.cli import main as app_main
from ..engine.periods import last_complete
from .demo import run_demo
from .synthetic import MIN_PERIOD_DAYS, MIN_SCALE, generate


def cmd_generate_data(args) -> int:
    period = period_arg(args.period) if args.period else last_complete("month", date.today())
    _check_scale(args)
    if (period.end - period.start).days + 1 < MIN_PERIOD_DAYS:
        raise UsageError(f"--period: {period.label} is shorter than {MIN_PERIOD_DAYS} days")
    plan = generate(out_folder(Path(args.out)), scale=args.scale, seed=args.seed, period_start=period.start,
                    period_end=period.end)
    print(f"wrote {plan.sor_rows:,} statements of reasons for {plan.platform} "
          f"{plan.period_start}..{plan.period_end} into {args.out}")
    return 0


def cmd_demo(args) -> int:
    _check_scale(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "scheduler-event.json").exists():
        # the demo replaces its folder: never a folder it did not write
        raise UsageError(f"--out: {out} is not empty and not a previous demo's output; give a new folder")
    return run_demo(out, scale=args.scale, seed=args.seed)


def _check_scale(args) -> None:
    if args.scale < MIN_SCALE:
        raise UsageError(f"--scale: {args.scale} is below the minimum of {MIN_SCALE}")
    if args.seed < 0:
        raise UsageError(f"--seed: {args.seed} is negative")


def add_commands(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the scheduled path end to end on a local S3/SES endpoint")
    demo.add_argument("--out", default="out/demo")
    demo.add_argument("--scale", type=int, default=300_000, help="statements of reasons in the period")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)

    gen = sub.add_parser("generate-data", help="write a synthetic marketplace in the data-contract layout")
    gen.add_argument("--out", required=True)
    gen.add_argument("--scale", type=int, default=200_000)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--period", help="the reported period the data is for (default: last complete month)")
    gen.set_defaults(func=cmd_generate_data)


def main(argv: list[str] | None = None) -> int:
    return app_main(argv, extend=add_commands)


if __name__ == "__main__":
    sys.exit(main())
