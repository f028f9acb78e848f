#!/usr/bin/env bash
# Speed benchmark for the tests gate: generates a ~100 MB JUnit report (thousands of
# suites, a few failures with long output, a little captured output everywhere), then
# runs the release binary's tests gate (`rust-ci-action tests --files <report>`, an empty
# workspace, no GitHub) RUNS times (default 5) and prints wall time, CPU time and peak RSS
# as min / median / max. Beside it, the same for `junitparser` (PyPI) reading the same
# file and counting its tests, when a Python with junitparser is given in PYTHON
# (default: python3; the peer is skipped, and said so, when it cannot import it).
#
#   scripts/bench-tests.sh                 # RUNS=7 PYTHON=/path/to/venv/bin/python ...
#
# Target (release build, 2-core runner): at most 0.5 s and 64 MB peak RSS. Prints
# numbers; never fails on them. Peak RSS, wall and CPU time are the child's own, from
# wait4(2) via Python. The report goes to ${BENCH_DIR:-/tmp/bench-tests} and is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp/bench-tests}
runs=${RUNS:-5}
python=${PYTHON:-python3}
mkdir -p "$dir"
report=$dir/junit-100mb.xml

cargo build --release --quiet --bin rust-ci-action
gate=${CARGO_TARGET_DIR:-$PWD/target}/release/rust-ci-action
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT

python3 - "$report" <<'PY'
import os, sys

path = sys.argv[1]
if not (os.path.exists(path) and os.path.getsize(path) > 0):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bench">\n')
        suites, cases = 3200, 100
        long_line = "    at com.example.service.Handler.process(Handler.java:{}) &lt;long &amp; noisy&gt;\n"
        for s in range(suites):
            f.write(f'  <testsuite name="com.example.suite{s}.ServiceTest" tests="{cases}" time="1.5">\n')
            f.write('    <properties><property name="java.version" value="17"/></properties>\n')
            for c in range(cases):
                name = f"test_case_{c}_does_something_useful"
                t = (s * 7 + c * 13) % 997 / 1000
                if s % 1000 == 17 and c == 3:
                    # A failure with a few MB of trace and output.
                    f.write(f'    <testcase classname="com.example.suite{s}.ServiceTest" name="{name}" time="{t}">\n')
                    f.write('      <failure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="AssertionError">')
                    f.write("".join(long_line.format(i) for i in range(40000)))
                    f.write('</failure>\n      <system-out><![CDATA[')
                    f.write("log line with some text in it\n" * 20000)
                    f.write(']]></system-out>\n    </testcase>\n')
                elif c % 50 == 7:
                    f.write(f'    <testcase classname="com.example.suite{s}.ServiceTest" name="{name}" time="{t}"><skipped message="later"/></testcase>\n')
                else:
                    f.write(f'    <testcase classname="com.example.suite{s}.ServiceTest" name="{name}" file="src/test/java/com/example/suite{s}/ServiceTest.java" line="{c + 10}" time="{t}">\n')
                    f.write('      <system-out>started; connected to db; done</system-out>\n    </testcase>\n')
            f.write('  </testsuite>\n')
        f.write('</testsuites>\n')
    os.replace(tmp, path)
print(f"report: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
PY

python3 - "$gate" "$ws" "$runs" "$report" "$python" <<'PY'
import os, statistics, subprocess, sys, time

gate, ws, runs, report, python = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
env = {k: v for k, v in os.environ.items()
       if not k.startswith(("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_")) and k not in ("CI", "RUST_LOG")}
peer = ("from junitparser import JUnitXml\n"
        "import sys\n"
        "n = sum(1 for suite in JUnitXml.fromfile(sys.argv[1]) for case in suite)\n"
        "print(n)\n")

def measure(argv):
    walls, cpus, rss, codes = [], [], [], set()
    for _ in range(runs):
        start = time.monotonic()
        p = subprocess.Popen(argv, cwd=ws, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        walls.append(time.monotonic() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss.append(usage.ru_maxrss / 1024)  # KiB on Linux
        codes.add(os.waitstatus_to_exitcode(status))
    fmt = lambda xs, f: "/".join(f.format(x) for x in (min(xs), statistics.median(xs), max(xs)))
    return fmt(walls, "{:.3f}"), fmt(cpus, "{:.3f}"), fmt(rss, "{:.1f}"), ",".join(map(str, sorted(codes)))

print(f"{runs} runs each; min/median/max")
print(f"{'reader':34} {'wall s':>22}  {'CPU s':>22}  {'peak RSS MB':>22}  exit")
w, c, r, e = measure([gate, "tests", "--files", report, "--output", "json"])
print(f"{'rust-ci-action tests (release)':34} {w:>22}  {c:>22}  {r:>22}  {e}", flush=True)
ok = subprocess.run([python, "-c", "import junitparser"], capture_output=True).returncode == 0
if ok:
    w, c, r, e = measure([python, "-c", peer, report])
    print(f"{'junitparser (count tests)':34} {w:>22}  {c:>22}  {r:>22}  {e}", flush=True)
else:
    print(f"junitparser: not importable with {python}; set PYTHON to a Python that has it")
PY
