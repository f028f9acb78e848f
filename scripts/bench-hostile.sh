#!/usr/bin/env bash
# Hostile-input benchmark for the coverage gate: generates reports a pull request could
# commit to make the gate slow or hungry, then runs the release binary's coverage gate
# (`rust-ci-action coverage --files <report>`, an empty workspace, no GitHub) on each,
# RUNS times (default 5), and prints wall time and peak RSS as min / median / max, with
# the exit code (2 = refused as bad input, which is the point for some of them).
#
#   scripts/bench-hostile.sh            # RUNS=7 scripts/bench-hostile.sh for more runs
#   GATE=/path/to/rust-ci-action scripts/bench-hostile.sh   # another build, not rebuilt
#
# Inputs (each also ten times larger where that makes sense):
#   lcov-sf-100k-segments   one LCOV SF: path of 100,000 segments (200 KB; refused: a path
#                           is at most 64 KiB); x10: 1,000,000 segments
#   lcov-sf-64k-paths       100 SF: paths of 32,000 segments each, just under the cap
#                           (path mapping at its limit); x10: 1,000 of them
#   lcov-50k-sections       50,000 one-line SF sections of one file, lines descending;
#                           x10: 500,000
#   cobertura-50k-aliases   50,000 classes whose filenames (d0/../a.py, d1/../a.py, ...)
#                           all normalise to one file, lines descending; x10: 500,000
#   cobertura-5k-sources    5,000 <source>s x 5,000 classes; x10: 50,000 x 50,000
#   cobertura-300mb-attr    one filename attribute of 300 MB (refused after 256 KiB);
#                           not made ten times larger (3 GB of disk, same 256 KiB read)
#
# Targets (release build, 2-core runner): each at most 0.5 s and 64 MB peak RSS, and
# the x10 variants growing at most linearly. Prints numbers; never fails on them.
# Peak RSS and wall time are the child's own, from wait4(2) via Python (no GNU time
# needed). Generated files go to ${BENCH_DIR:-/tmp/bench-hostile} and are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp/bench-hostile}
runs=${RUNS:-5}
mkdir -p "$dir"

# GATE=/path/to/rust-ci-action: measure that binary instead of building the release one.
gate=${GATE:-}
if [[ -z $gate ]]; then
  cargo build --release --quiet --bin rust-ci-action
  gate=$PWD/target/release/rust-ci-action
fi
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT

python3 - "$dir" <<'PY'
import os, sys

d = sys.argv[1]

def write(name, chunks):
    path = os.path.join(d, name)
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)

def lcov_long_path(segments):
    yield "TN:\nSF:" + "a/" * (segments - 1) + "x.c\nDA:1,1\nend_of_record\n"

def lcov_capped_paths(files):
    seg = "a/" * 31_999
    for i in range(files):
        yield f"SF:{seg}f{i}.c\nDA:1,1\nDA:2,0\nend_of_record\n"

def lcov_sections(n):
    for line in range(n, 0, -1):
        yield f"SF:src/a.c\nDA:{line},{line % 2}\nend_of_record\n"

COB_HEAD = '<?xml version="1.0" ?>\n<coverage version="7.6">\n'

def cobertura_aliases(n):
    yield COB_HEAD + "<sources><source>.</source></sources>\n<packages><package name=\"p\"><classes>\n"
    for i in range(n):
        line = n - i
        yield (f'<class name="c{i}" filename="d{i}/../a.py"><lines>'
               f'<line number="{line}" hits="{line % 2}"/></lines></class>\n')
    yield "</classes></package></packages></coverage>\n"

def cobertura_sources(sources, classes):
    yield COB_HEAD + "<sources>\n"
    for i in range(sources):
        yield f"<source>/home/runner/work/r/r/src{i}</source>\n"
    yield "</sources>\n<packages><package name=\"p\"><classes>\n"
    for i in range(classes):
        yield (f'<class name="c{i}" filename="pkg{i}/m{i}.py"><lines>'
               f'<line number="1" hits="1"/><line number="2" hits="0"/></lines></class>\n')
    yield "</classes></package></packages></coverage>\n"

def cobertura_attr(mb):
    yield COB_HEAD + "<packages><package name=\"p\"><classes>\n<class name=\"c\" filename=\""
    chunk = "a" * (1 << 20)
    for _ in range(mb):
        yield chunk
    yield "\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\n</classes></package></packages></coverage>\n"

write("lcov-sf-100k-segments.info", lcov_long_path(100_000))
write("lcov-sf-100k-segments-x10.info", lcov_long_path(1_000_000))
write("lcov-sf-64k-paths.info", lcov_capped_paths(100))
write("lcov-sf-64k-paths-x10.info", lcov_capped_paths(1_000))
write("lcov-50k-sections.info", lcov_sections(50_000))
write("lcov-50k-sections-x10.info", lcov_sections(500_000))
write("cobertura-50k-aliases.xml", cobertura_aliases(50_000))
write("cobertura-50k-aliases-x10.xml", cobertura_aliases(500_000))
write("cobertura-5k-sources.xml", cobertura_sources(5_000, 5_000))
write("cobertura-5k-sources-x10.xml", cobertura_sources(50_000, 50_000))
write("cobertura-300mb-attr.xml", cobertura_attr(300))
PY

python3 - "$gate" "$ws" "$runs" "$dir" <<'PY'
import os, statistics, subprocess, sys, time

gate, ws, runs, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cases = [
    "lcov-sf-100k-segments.info", "lcov-sf-100k-segments-x10.info",
    "lcov-sf-64k-paths.info", "lcov-sf-64k-paths-x10.info",
    "lcov-50k-sections.info", "lcov-50k-sections-x10.info",
    "cobertura-50k-aliases.xml", "cobertura-50k-aliases-x10.xml",
    "cobertura-5k-sources.xml", "cobertura-5k-sources-x10.xml",
    "cobertura-300mb-attr.xml",
]
env = {k: v for k, v in os.environ.items()
       if not k.startswith(("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_")) and k not in ("CI", "RUST_LOG")}
print(f"{'input':34} {'size':>8}  {'wall s min/med/max':>22}  {'peak RSS MB min/med/max':>24}  exit")
for name in cases:
    path = os.path.join(d, name)
    walls, rss, codes = [], [], set()
    for _ in range(runs):
        start = time.monotonic()
        p = subprocess.Popen([gate, "coverage", "--files", path, "--output", "json"], cwd=ws, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        walls.append(time.monotonic() - start)
        rss.append(usage.ru_maxrss / 1024)  # KiB on Linux
        codes.add(os.waitstatus_to_exitcode(status))
    size = os.path.getsize(path)
    size = f"{size / 1e6:.1f}MB" if size >= 1e6 else f"{size / 1e3:.0f}KB"
    w = "/".join(f"{x:.3f}" for x in (min(walls), statistics.median(walls), max(walls)))
    r = "/".join(f"{x:.1f}" for x in (min(rss), statistics.median(rss), max(rss)))
    print(f"{name:34} {size:>8}  {w:>22}  {r:>24}  {','.join(map(str, sorted(codes)))}", flush=True)
PY
