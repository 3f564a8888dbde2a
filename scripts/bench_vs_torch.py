#!/usr/bin/env python3
"""The comparison behind scripts/bench-vs-torch (run that; it finds a Python with PyTorch first).

Runs `kp2d-tui bench --only trainstep,inference --json` and `kp2d_torch.py bench --json` one after the other,
each in its own process, with the same --repeats/--warmup, and prints one table of what both measured now.
Standard library only; the twin runs under --python.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


class BenchFailure(Exception):
    pass


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def run_measured(cmd, env=None):
    """Run cmd; return (stdout, stderr, rusage of the process from wait4, wall seconds)."""
    t0 = time.monotonic()
    # Output goes to temporary files (not pipes) so that the child can be reaped with os.wait4, which
    # gives its own rusage; Popen.communicate would reap it first.
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        try:
            proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env)
        except OSError as e:
            raise BenchFailure("cannot run %s: %s" % (cmd[0], e))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["(no message)"]
        raise BenchFailure("%s exited with status %d: %s" % (" ".join(cmd[:3]), proc.returncode, tail[0]))
    return out.decode(errors="replace"), err.decode(errors="replace"), usage, time.monotonic() - t0


def last_json(text, what):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    raise BenchFailure("%s printed no JSON object" % what)


def find_row(rows, key, value, what):
    for r in rows:
        if r.get(key) == value:
            return r
    raise BenchFailure("%s: no row with %s = %r in %r" % (what, key, value, [r.get(key) for r in rows]))


def measure_ours(binary, repeats, warmup):
    cmd = [binary, "bench", "--only", "trainstep,inference", "--json", "--repeats", str(repeats),
           "--warmup", str(warmup)]
    out, _, usage, wall = run_measured(cmd)
    process_rss = usage.ru_maxrss / 1024.0
    j = last_json(out, "kp2d-tui bench")
    sections = j.get("sections", {})
    if "trainstep" not in sections or "inference" not in sections:
        raise BenchFailure("kp2d-tui bench --json has no trainstep/inference sections")
    ts, inf = sections["trainstep"]["rows"], sections["inference"]["rows"]
    b8 = find_row(ts, "case", "b8 240x320", "kp2d-tui trainstep")
    env = j.get("environment", {})
    # The OpenBLAS core in use ("blas_core", where the binary reports it) and the variable as set.
    core = {k: v for k, v in env.items() if k in ("blas_core", "openblas_coretype")}
    return {
        "command": " ".join(cmd),
        "b8_s": b8["step_s"], "b2_s": find_row(ts, "case", "b2 240x320", "kp2d-tui trainstep")["step_s"],
        "inf_240_ms": find_row(inf, "size", "240x320", "kp2d-tui inference")["median_ms"],
        "inf_480_ms": find_row(inf, "size", "480x640", "kp2d-tui inference")["median_ms"],
        # The b8 case runs first in its process, so the peak so far after it is the b8 peak. Older binaries
        # lack the field: then the whole process (b8, b2, inference) is all we have.
        "b8_peak_rss_mb": b8.get("peak_rss_mb", process_rss),
        "b8_peak_rss_source": "after the b8 case" if "peak_rss_mb" in b8 else "whole bench process",
        "process_peak_rss_mb": process_rss, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
        "openblas": core, "environment": env,
    }


def measure_twin(python, script, repeats, warmup, threads):
    cmd = [python, script, "bench", "--json", "--repeats", str(repeats), "--warmup", str(warmup),
           "--threads", str(threads)]
    out, _, usage, wall = run_measured(cmd)
    process_rss = usage.ru_maxrss / 1024.0
    j = last_json(out, "kp2d_torch.py bench")
    ts, inf = j["trainstep"], j["inference"]
    b8 = find_row(ts, "case", "b8 240x320", "twin trainstep")
    return {
        "command": " ".join(cmd),
        "b8_s": b8["step_s"], "b2_s": find_row(ts, "case", "b2 240x320", "twin trainstep")["step_s"],
        "inf_240_ms": find_row(inf, "size", "240x320", "twin inference")["median_ms"],
        "inf_480_ms": find_row(inf, "size", "480x640", "twin inference")["median_ms"],
        "b8_peak_rss_mb": b8["peak_rss_mb"], "b8_peak_rss_source": "after the b8 case",
        "process_peak_rss_mb": process_rss, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
        "torch": j["torch"], "threads": j["threads"], "raw": j,
    }


FIGURES = [
    ("training step, paper preset, batch 8, 240x320", "b8_s", "s"),
    ("training step, paper preset, batch 2, 240x320", "b2_s", "s"),
    ("inference per image, 240x320 (median)", "inf_240_ms", "ms"),
    ("inference per image, 480x640 (median)", "inf_480_ms", "ms"),
    ("peak RSS, process after the batch-8 steps", "b8_peak_rss_mb", "MiB"),
    # The same work on both sides (b8 and b2 steps, both inference sizes, start-up); CPU time is what
    # moves least when other processes share the cores.
    ("CPU time (user+sys), whole bench process", "cpu_s", "cpu"),
]


def fmt(v, unit):
    if unit == "s":
        return "%.2f s" % v
    if unit == "ms":
        return "%.1f ms" % v
    if unit == "cpu":
        return "%.1f s" % v
    return "%.0f MiB" % v


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench-vs-torch", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--bin", default=None)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if a.repeats < 1 or a.warmup < 0 or a.threads < 1:
        p.error("need --repeats >= 1, --warmup >= 0, --threads >= 1")
    binary = a.bin or os.path.join(a.root, ".build", "release", "kp2d-tui")
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("bench-vs-torch: %s is not an executable kp2d-tui (nothing measured); build it with "
              "`swift build -c release` or pass --bin PATH" % binary, file=sys.stderr)
        return 2
    load_before = load_average()
    try:
        ours = measure_ours(binary, a.repeats, a.warmup)
        twin = measure_twin(a.python, os.path.join(a.root, "scripts", "kp2d_torch.py"), a.repeats, a.warmup, a.threads)
    except BenchFailure as e:
        print("bench-vs-torch: %s (nothing reported)" % e, file=sys.stderr)
        return 1
    load_after = load_average()

    rows = []
    for label, key, unit in FIGURES:
        rows.append({"figure": label, "unit": unit, "ours": ours[key], "pytorch": twin[key],
                     "ratio": twin[key] / ours[key] if ours[key] else None})
    method = ("same on both sides: training step = fresh model per batch, %d untimed + %d timed steps, median "
              "(zero grads, normalise, 2 forwards, loss with IO-Net, backward, Adam); inference = 1 untimed + %d "
              "timed eval forwards of one image, median; peak RSS = process maximum resident set after its "
              "batch-8 steps (getrusage); CPU time = user+sys of each whole bench process (wait4)" % (a.warmup, min(a.repeats, 3), min(a.repeats, 5)))
    if a.json:
        print(json.dumps({"rows": rows, "method": method, "load_before": load_before, "load_after": load_after,
                          "ours": ours, "pytorch": twin}, indent=1))
        return 0
    blas = ours["openblas"]
    core = ("core %s" % blas["blas_core"]) if "blas_core" in blas else "core not reported by this kp2d-tui"
    if "openblas_coretype" in blas:
        core += ", OPENBLAS_CORETYPE=%s" % blas["openblas_coretype"]
    print("kp2d-tui %s (OpenBLAS %s) vs PyTorch %s twin (scripts/kp2d_torch.py, %d threads)"
          % (binary, core, twin["torch"], twin["threads"]))
    print("load average before %s, after %s" % (load_before, load_after))
    w = max(len(r["figure"]) for r in rows)
    print("%-*s  %12s  %12s  %s" % (w, "figure", "ours", "PyTorch", "ratio (PyTorch / ours)"))
    for r in rows:
        ratio = r["ratio"]
        words = {"MiB": ("ours smaller", "ours larger"), "cpu": ("ours less CPU", "ours more CPU")}.get(
            r["unit"], ("ours faster", "ours slower"))
        if ratio is None:
            verdict = "-"
        else:
            verdict = "%.2f (%s)" % (ratio, words[0] if ratio > 1 else words[1] if ratio < 1 else "equal")
        print("%-*s  %12s  %12s  %s" % (w, r["figure"], fmt(r["ours"], r["unit"]), fmt(r["pytorch"], r["unit"]), verdict))
    print("method: " + method)
    if ours["b8_peak_rss_source"] != "after the b8 case":
        print("note: this kp2d-tui reports no peak_rss_mb; its RSS is the whole bench process's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
