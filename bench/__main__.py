"""Run every benchmark module in bench/ (each one's main()) and print what it measured."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run_all(names: list[str] | None = None) -> int:
    failed = []
    modules = [m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")]
    for name in sorted(modules):
        if names and name not in names:
            continue
        print(f"== bench.{name}", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            main = module.main
            code = asyncio.run(main()) if inspect.iscoroutinefunction(main) else main()
        except Exception as exc:  # one broken bench must not hide the others
            print(f"   failed: {type(exc).__name__}: {exc}", flush=True)
            code = 1
        print(f"   ({time.monotonic() - started:.1f} s)\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print("below target or failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_all(sys.argv[1:] or None))
