"""Sandbox throughput: candidates per second through the pool vs. a naive fresh-python baseline.

Realistic candidates: RPN evaluators (16 hidden tests each), a mix of correct solutions in several
styles, wrong ones (floor instead of truncating division, operand order), one that raises and one
with a syntax error. Both sides run the same harness (sandbox/worker.py) and the same judging code:

  pool      sandbox.SandboxPool (one long-lived worker per core inside namespaces, fork per candidate)
  baseline  one fresh `python -I -S worker.py` subprocess per candidate (no namespace, no preloading,
            no uid drop; rlimits only), as many in parallel as the pool has workers

Usage:  python benchmarks/sandbox.py [--n 3000] [--baseline-n 200]
Ends with one JSON line (see shared/DESIGN.md).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import sandbox  # noqa: E402
from sandbox.judging import judge  # noqa: E402
from sandbox.workers import WORKER_SCRIPT  # noqa: E402

CORRECT = [
    '''
def evaluate(expr):
    stack = []
    for tok in expr.split():
        if tok in ("+", "-", "*", "/"):
            b = stack.pop()
            a = stack.pop()
            if tok == "+":
                stack.append(a + b)
            elif tok == "-":
                stack.append(a - b)
            elif tok == "*":
                stack.append(a * b)
            else:
                q = abs(a) // abs(b)
                stack.append(q if (a >= 0) == (b >= 0) else -q)
        else:
            stack.append(int(tok))
    return stack[-1]
''',
    '''
import operator

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul,
       "/": lambda a, b: int(a / b) if abs(a) < 2 ** 52 else (abs(a) // abs(b)) * (1 if (a < 0) == (b < 0) else -1)}

def evaluate(expr: str) -> int:
    st: list = []
    for t in expr.split():
        if t in OPS:
            y, x = st.pop(), st.pop()
            st.append(OPS[t](x, y))
        else:
            st.append(int(t))
    return st.pop()
''',
    '''
def evaluate(expr):
    """Evaluate a Reverse Polish Notation expression."""
    tokens = expr.split()
    stack = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.lstrip("-").isdigit():
            stack.append(int(t))
        else:
            right = stack.pop()
            left = stack.pop()
            if t == "+":
                res = left + right
            elif t == "-":
                res = left - right
            elif t == "*":
                res = left * right
            elif t == "/":
                res = abs(left) // abs(right)
                if (left < 0) != (right < 0):
                    res = -res
            else:
                raise ValueError(t)
            stack.append(res)
        i += 1
    return stack[0]
''',
]
WRONG = [
    # floor division instead of truncation
    '''
def evaluate(expr):
    stack = []
    for tok in expr.split():
        if tok in "+-*/" and len(tok) == 1:
            b, a = stack.pop(), stack.pop()
            stack.append({"+": a + b, "-": a - b, "*": a * b, "/": a // b}[tok] if tok != "/" or b else 0)
        else:
            stack.append(int(tok))
    return stack[-1]
''',
    # operands swapped
    '''
def evaluate(expr):
    s = []
    for tok in expr.split():
        if tok == "+": s.append(s.pop() + s.pop())
        elif tok == "-": s.append(s.pop() - s.pop())
        elif tok == "*": s.append(s.pop() * s.pop())
        elif tok == "/":
            a, b = s.pop(), s.pop()
            s.append(int(a / b))
        else: s.append(int(tok))
    return s[-1]
''',
    # raises on the first test
    '''
def evaluate(expr):
    return eval(expr)
''',
    # syntax error (an unfinished reply)
    '''
def evaluate(expr):
    stack = []
    for tok in expr.split(
''',
]


def _rpn_tests(rng, n=16):
    """RPN expressions with truncating division (the reference semantics)."""
    def trunc(a, b):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q

    tests = []
    while len(tests) < n:
        stack, toks = [], []
        for _ in range(rng.randint(2, 8)):
            v = rng.randint(-20, 50)
            stack.append(v)
            toks.append(str(v))
            while len(stack) >= 2 and rng.random() < 0.5:
                op = rng.choice("+-*/")
                b, a = stack.pop(), stack.pop()
                if op == "/" and b == 0:
                    b = 7
                    toks[-1] = "7"
                r = {"+": a + b, "-": a - b, "*": a * b}.get(op) if op != "/" else trunc(a, b)
                stack.append(r)
                toks.append(op)
        while len(stack) >= 2:
            b, a = stack.pop(), stack.pop()
            stack.append(a + b)
            toks.append("+")
        tests.append({"args": [" ".join(toks)], "expected": stack[0]})
    return tests


def make_candidates(n, seed=0):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tests = _rpn_tests(rng, rng.randint(12, 20))
        src = CORRECT[i % 3] if rng.random() < 0.6 else WRONG[rng.randrange(len(WRONG))]
        out.append(("# candidate %d\n%s" % (i, src), "evaluate", tests))
    return out


def naive_verify(pool, item, timeout_s):
    """One fresh python per candidate, running the same harness and the same judging code."""
    code, entry, tests = item
    job = pool._prepare_call(code, entry, tests, timeout_s)
    if "verdict" in job:
        return job["verdict"]
    base = tempfile.mkdtemp(prefix="sbx-naive-")
    os.chmod(base, 0o711)
    # The naive variant runs as the calling user (no uid drop, nothing preloaded): cheaper than the
    # real thing, so the ratio below is conservative.
    cfg = dict(pool._limits, uid=pool.uid, gid=pool.gid, drop_uid=False, jail=False,
               base_dir=base, preload=False)
    req = dict(job["req"], id=1, nonce="0123456789abcdef")
    try:
        r = subprocess.run([sys.executable, "-I", "-S", "-B", WORKER_SCRIPT, json.dumps(cfg)],
                           input=(json.dumps(req) + "\n").encode(), capture_output=True, env={},
                           timeout=timeout_s + 10)
        lines = r.stdout.decode().splitlines()
        resp = json.loads(lines[1])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return judge(job, resp, req["nonce"])


def _proc_cpu(pid):
    """utime+stime+cutime+cstime of a process, in seconds (children: those it has reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def _pool_cpu(pool):
    """CPU seconds used so far by this process and by every worker (with the candidates it reaped)."""
    total = time.process_time()
    for w in pool._workers:
        pids = [w.proc.pid]
        try:
            with open("/proc/%d/task/%d/children" % (w.proc.pid, w.proc.pid)) as fh:
                pids += [int(k) for k in fh.read().split()]
        except OSError:
            pass
        total += sum(_proc_cpu(p) for p in pids)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000, help="candidates through the pool")
    ap.add_argument("--baseline-n", type=int, default=200, help="candidates through the naive baseline")
    ap.add_argument("--workers", type=int, default=None, help="pool size (default: usable cores)")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    pool = sandbox.SandboxPool(size=args.workers, timeout_s=args.timeout)
    startup = time.perf_counter() - t0
    cands = make_candidates(args.n + args.baseline_n, seed=1)
    main_c, base_c = cands[:args.n], cands[args.n:]

    pool.verify_batch(main_c[:100])  # warm up
    load0 = os.getloadavg()[0]
    cpu0 = _pool_cpu(pool)
    t0 = time.perf_counter()
    verdicts = pool.verify_batch(main_c)
    pool_s = time.perf_counter() - t0
    cpu_per = (_pool_cpu(pool) - cpu0) / len(main_c)
    pool_rate = len(main_c) / pool_s

    t0 = time.perf_counter()
    chunked = []
    for k in range(0, len(main_c), 64):
        chunked += pool.verify_batch(main_c[k:k + 64])
    chunk_rate = len(main_c) / (time.perf_counter() - t0)

    with ThreadPoolExecutor(max_workers=pool.size) as ex:
        t0 = time.perf_counter()
        base_v = list(ex.map(lambda it: naive_verify(pool, it, args.timeout), base_c))
        base_s = time.perf_counter() - t0
    base_rate = len(base_c) / base_s
    pool_on_base = pool.verify_batch(base_c)
    agree = sum(a.status == b.status for a, b in zip(base_v, pool_on_base))

    statuses = {}
    for v in verdicts:
        statuses[v.status] = statuses.get(v.status, 0) + 1
    tests_per = sum(len(t) for _, _, t in main_c) / len(main_c)
    d = pool.describe()
    # Imported only now, with the timing done: the headline's module loads torch, which nothing measured here uses.
    from benchmarks.headline import emit
    from models.cpu_perf import cpu_description

    machine = cpu_description()
    print("sandbox throughput  (machine: %s, %d usable cores, isolation: %s, jail=%s, uid drop=%s)"
          % (machine, len(os.sched_getaffinity(0)), d["mode"], d["jail"], d["drop_uid"]))
    print("-" * 78)
    print("%-44s %10s %10s %10s" % ("variant", "cands", "seconds", "cands/s"))
    print("%-44s %10d %10.2f %10.1f" % ("pool, one batch (%d workers)" % pool.size, len(main_c), pool_s, pool_rate))
    print("%-44s %10d %10.2f %10.1f" % ("pool, batches of 64", len(main_c), len(main_c) / chunk_rate, chunk_rate))
    print("%-44s %10d %10.2f %10.1f" % ("baseline: fresh python per candidate (x%d)" % pool.size,
                                         len(base_c), base_s, base_rate))
    print("-" * 78)
    print("tests per candidate: %.1f; pool start-up incl. self-check: %.2f s" % (tests_per, startup))
    print("verdicts: %s" % ", ".join("%s=%d" % kv for kv in sorted(statuses.items())))
    print("baseline and pool agree on %d/%d verdicts" % (agree, len(base_c)))
    print("ratio pool/baseline: %.1fx" % (pool_rate / base_rate))
    print("CPU per candidate through the pool (trainer + worker + candidate): %.2f ms -> CPU-bound "
          "capacity of %d idle cores: %.0f candidates/s (derived, not measured)"
          % (cpu_per * 1000, pool.size, pool.size / cpu_per if cpu_per > 0 else float("nan")))
    print("1-min load average when measuring: %.2f (other work on the machine slows both variants)" % load0)
    pool.close()
    return emit({"metric": "sandbox_throughput", "value": round(pool_rate, 1), "unit": "candidates/s",
                 "baseline": round(base_rate, 1), "ratio": round(pool_rate / base_rate, 1), "machine": machine},
                "none")  # no model runs here


if __name__ == "__main__":
    main()
