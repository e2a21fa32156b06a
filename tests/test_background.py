"""``side_by_side``: the first input read in a forked child, with the results, warnings and errors of reading in turn.

Each case runs in a fresh interpreter, since a forked child is only used while the
process has a single thread (this test runner has more).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SETUP = """
import os, pickle, sys, warnings
from gradient._background import can_fork, side_by_side

def say(text):
    warnings.warn(text, UserWarning)

def first_ok():
    say("first")
    return os.getpid()

def second_ok():
    say("second")
    return "areas"

def fails(kind):
    def f():
        say(kind.__name__)
        raise kind("from " + kind.__name__)
    return f

warnings.simplefilter("always")
warnings.showwarning = lambda m, c, f, n, file=None, line=None: print("warning:", m)
assert can_fork(), "this machine cannot fork a second reader"
"""


def run(body: str) -> list[str]:
    code = SETUP + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                                reason="forks only on Linux with a second core")


def test_both_succeed_the_first_in_a_child_warnings_in_order():
    out = run("""
        pid, areas = side_by_side(first_ok, second_ok)
        print("child" if pid != os.getpid() else "here", areas)
    """)
    assert out == ["warning: first", "warning: second", "child areas"]


def test_the_first_error_wins_as_in_turn():
    out = run("""
        try:
            side_by_side(fails(ValueError), fails(KeyError))
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    # the first is run again here, so its warning is shown once and its error is this process's own
    assert out == ["warning: ValueError", "ValueError from ValueError"]


def test_the_second_error_comes_after_the_first_warnings():
    out = run("""
        try:
            side_by_side(first_ok, fails(KeyError))
        except KeyError as exc:
            print("KeyError", exc)
    """)
    assert out == ["warning: first", "warning: KeyError", "KeyError 'from KeyError'"]


def test_a_value_that_cannot_be_pickled_is_made_here():
    out = run("""
        got, _ = side_by_side(lambda: (say("first"), lambda: os.getpid())[1], second_ok)
        print("here" if got() == os.getpid() else "child")
    """)
    assert out == ["warning: first", "warning: second", "here"]


def test_no_child_once_threads_run():
    out = run("""
        import threading, time
        threading.Thread(target=time.sleep, args=(2,), daemon=True).start()
        print(can_fork())
        pid, _ = side_by_side(first_ok, second_ok)
        print(pid == os.getpid())
    """)
    assert out[0] == "False" and out[-1] == "True"
