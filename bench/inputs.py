"""Benchmark reading clan-core's services as a flake input (clan_lsp.inputs).

    python bench/inputs.py CLAN_CORE [--runs 7]

CLAN_CORE is a clan-core checkout, read as the configured folder of input `clan-core`
(a locked store path is read by the same code). One "read" asks what the inventory checks
ask: the module names clan-core provides, then each service's roles and every role's
settings (types, defaults, docs). Prints medians:
- cold: caches cleared, interpreter and parser warm (what the server pays on first use);
- cold, new process: `python -c` doing one read, interpreter start and imports included;
- warm: the same questions again (cached per narHash / folder);
- catalogue: the same questions answered by the shipped catalogue.
The goal for cold is under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from clan_lsp import inputs  # noqa: E402


def read_all(workspace: str, settings: inputs.InputSettings) -> tuple[int, int]:
    provided = inputs.provided_modules(workspace, None, settings)
    services = options = 0
    for name in provided.names:
        service = inputs.resolve_input_service(workspace, None, name, settings)
        if service is None:
            continue
        services += 1
        for role in service.roles or ():
            options += len(service.options(role))
    return services, options


def timed(function, runs: int) -> tuple[float, float]:
    """Medians of (wall, CPU) milliseconds: CPU time is what the read costs on a busy machine too."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clan_core")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    checkout = os.path.abspath(args.clan_core)
    workspace = tempfile.mkdtemp(prefix="clan-lsp-bench-")  # a clan without a flake.lock
    folder = inputs.InputSettings({"clan-core": checkout})
    empty_store = inputs.InputSettings(store_dir=os.path.join(workspace, "no-store"))

    services, options = read_all(workspace, folder)

    def cold() -> None:
        inputs.clear_caches()
        read_all(workspace, folder)

    def catalogue_cold() -> None:
        inputs.clear_caches()
        read_all(workspace, empty_store)

    cold_ms = timed(cold, args.runs)
    inputs.clear_caches()
    read_all(workspace, folder)
    warm_ms = timed(lambda: read_all(workspace, folder), args.runs)
    catalogue_ms = timed(catalogue_cold, args.runs)
    read_all(workspace, empty_store)
    catalogue_warm_ms = timed(lambda: read_all(workspace, empty_store), args.runs)

    script = (
        "import sys, time; t = time.perf_counter(); sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import inputs as b; from clan_lsp import inputs;"
        "b.read_all(sys.argv[3], inputs.InputSettings({'clan-core': sys.argv[4]}));"
        "print((time.perf_counter() - t) * 1000)"
    )
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    from common import compile_checkout, user_env  # a new process as a user's install runs: with bytecode

    compile_checkout()
    process = []
    for _ in range(max(3, args.runs // 2)):
        out = subprocess.run([sys.executable, "-c", script, ROOT, os.path.join(ROOT, "bench"), workspace, checkout], capture_output=True, text=True, check=True, env=user_env())
        process.append(float(out.stdout.strip()))

    print(f"clan-core services as a flake input: {services} services, {options} role settings ({checkout})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; medians of {args.runs} runs")
    print()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print()
    print("| read | wall ms | CPU ms |")
    print("|---|---:|---:|")
    print(f"| cold (caches cleared, configured folder) | {cold_ms[0]:.1f} | {cold_ms[1]:.1f} |")
    print(f"| cold, new process (interpreter start and imports included) | {statistics.median(process):.1f} | |")
    print(f"| warm (cached) | {warm_ms[0]:.2f} | {warm_ms[1]:.2f} |")
    print(f"| catalogue, cold | {catalogue_ms[0]:.2f} | {catalogue_ms[1]:.2f} |")
    print(f"| catalogue, warm | {catalogue_warm_ms[0]:.2f} | {catalogue_warm_ms[1]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
