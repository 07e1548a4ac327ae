#!/usr/bin/python3
"""A terminal for the console benchmarks (bench_console_*.sh).

Runs a program on a pseudo-terminal of our own (80x24 unless told), keeps
what it draws in a terminal emulator (pyte, Debian's python3-pyte), and
measures what the program sends and how soon:

  console_pty.py [OPTIONS] MODE -- COMMAND [ARGS...]

  bytes   after it is ready and has settled, counts the bytes it writes for
          --secs seconds; prints "<bytes> <seconds> <its CPU ticks>", and
          the CPU ticks of process --cpu-of PID in the same window
  keys    presses j and k in turn, --count times, each after a pause, and
          times each until what --field (a regex, default the whole line)
          matches on --row (0 is the top) has changed; prints one latency
          in ms a line
  frame   times from the start until the screen is --ready; prints seconds
  rss     once ready, waits --secs and prints the program's VmHWM in kB

Options:
  --ready RE     the screen is ready when RE matches a line
  --ready-lines N  ... on at least N lines (default 1)
  --not RE       ... and no line matches RE (may be repeated)
  --settled      ... and every row of lookout's console has its state: no
                 "? " marker (not read yet), "?/?", "checking" or "reading
                 the state..."
  --settle S     after ready, wait S seconds before measuring (default 0)
  --send TEXT / --wait RE   (repeatable, in order, after ready and settle)
                 type TEXT (Python escapes: \\r, \\x1b), or wait until a line
                 matches RE
  --dump FILE    bytes mode: the bytes of the window, raw, for reading later
  --timeout S    give up waiting for any screen after S seconds (default 60)
  --screen FILE  the screen as text at the end, for checking what was shown

The program gets TERM=tmux-256color, as in a tmux pane (xterm's terminfo
has rep, which pyte does not know), and ends with SIGTERM, then SIGKILL
to its process group.  Standard error has the screen when a wait fails.
"""
import argparse
import fcntl
import os
import pty
import random
import re
import select
import signal
import struct
import sys
import termios
import time

import pyte


class Screen(pyte.Screen):
    """pyte's screen with SU and SD (scroll the region up or down), which
    ncurses uses to move rows that a re-sort moved."""

    def _scroll(self, how, count):
        y, x = self.cursor.y, self.cursor.x
        self.cursor.y = self.margins.top if self.margins else 0
        how(count or 1)
        self.cursor.y, self.cursor.x = y, x

    def scroll_up(self, count=1, *args, **kwargs):
        self._scroll(self.delete_lines, count)

    def scroll_down(self, count=1, *args, **kwargs):
        self._scroll(self.insert_lines, count)


class Stream(pyte.ByteStream):
    csi = dict(pyte.ByteStream.csi, S="scroll_up", T="scroll_down")


class Term:
    def __init__(self, argv, rows, cols):
        self.screen = Screen(cols, rows)
        self.stream = Stream(self.screen)
        self.start = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "tmux-256color"
            os.environ["LINES"] = str(rows)
            os.environ["COLUMNS"] = str(cols)
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        self.pid, self.fd = pid, fd
        self.nbytes = 0
        self.sink = None

    def pump(self, timeout):
        """Reads what is there within timeout; returns the time it came."""
        r, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not r:
            return None
        t = time.monotonic()
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            raise SystemExit("console_pty: the program ended:\n" + self.text())
        self.nbytes += len(data)
        if self.sink is not None:
            self.sink.write(data)
        self.stream.feed(data)
        return t

    def drain(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self.pump(end - time.monotonic())

    def lines(self):
        return self.screen.display

    def text(self):
        return "\n".join(line.rstrip() for line in self.lines())

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() >= end:
                raise SystemExit("console_pty: no %s within %gs; screen:\n%s"
                                 % (what, timeout, self.text()))
            self.pump(end - time.monotonic())
        return time.monotonic()

    def send(self, text):
        os.write(self.fd, text.encode())

    def stop(self):
        for sig, secs in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            end = time.monotonic() + secs
            while time.monotonic() < end:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    return
                try:
                    self.pump(0.05)
                except SystemExit:
                    pass


def ticks(pid):
    """utime + stime of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ready(term, a):
    def pred():
        lines = term.lines()
        if sum(1 for l in lines if a.ready.search(l)) < a.ready_lines:
            return False
        return not any(n.search(l) for n in a.not_ for l in lines)
    return pred


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=24)
    p.add_argument("--cols", type=int, default=80)
    p.add_argument("--ready", type=re.compile, default=re.compile("."))
    p.add_argument("--ready-lines", type=int, default=1)
    p.add_argument("--not", dest="not_", type=re.compile, action="append",
                   default=[])
    p.add_argument("--settled", action="store_true")
    p.add_argument("--settle", type=float, default=0)
    p.add_argument("--send", dest="script", action="append", default=[],
                   type=lambda s: ("send", s.encode().decode("unicode_escape")))
    p.add_argument("--wait", dest="script", action="append",
                   type=lambda s: ("wait", re.compile(s)))
    p.add_argument("--secs", type=float, default=30)
    p.add_argument("--dump")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--row", type=int, default=0)
    p.add_argument("--field", type=re.compile, default=re.compile(".*"))
    p.add_argument("--cpu-of", type=int)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--screen")
    p.add_argument("mode", choices=["bytes", "keys", "frame", "rss"])
    p.add_argument("argv", nargs="+")
    a = p.parse_args()
    if a.settled:
        a.not_ += [re.compile(r"^\? "), re.compile(r"\?/\?"),
                   re.compile("checking"), re.compile("reading the state")]

    term = Term(a.argv, a.rows, a.cols)
    if os.environ.get("CONSOLE_PTY_RAW"):
        term.sink = open(os.environ["CONSOLE_PTY_RAW"], "wb")
    try:
        t = term.wait(ready(term, a), a.timeout, "ready screen")
        if a.mode == "frame":
            print("%.6f" % (t - term.start))
            return
        term.drain(a.settle)
        for op, arg in a.script:
            if op == "send":
                term.send(arg)
            else:
                term.wait(lambda: any(arg.search(l) for l in term.lines()),
                          a.timeout, "line matching %r" % arg.pattern)
        if a.mode == "bytes":
            if a.dump:
                term.sink = open(a.dump, "wb")
            pids = [term.pid] + ([a.cpu_of] if a.cpu_of else [])
            c0 = [ticks(p) for p in pids]
            n0, t0 = term.nbytes, time.monotonic()
            term.drain(a.secs)
            c1 = [ticks(p) for p in pids]
            print(term.nbytes - n0, "%.3f" % (time.monotonic() - t0),
                  *(y - x for x, y in zip(c0, c1)))
            term.sink = None
        elif a.mode == "rss":
            term.drain(a.secs)
            with open("/proc/%d/status" % term.pid) as f:
                print(re.search(r"VmHWM:\s*(\d+)", f.read()).group(1))
        else:
            keys(term, a)
        if a.screen:
            with open(a.screen, "w") as f:
                f.write(term.text() + "\n")
    finally:
        term.stop()


def keys(term, a):
    """The time from writing a key to reading the screen it changed: the
    --field of --row differs from what it was before the key."""
    def field():
        return a.field.match(term.lines()[a.row]).group(0)
    for i in range(a.count):
        key = "jk"[i % 2]
        # A pause, as between a person's keys; drawing goes on meanwhile.
        term.drain(random.uniform(0.02, 0.06))
        before = field()
        t0 = time.monotonic()
        term.send(key)
        end, t = t0 + a.timeout, None
        while t is None or field() == before:
            if time.monotonic() >= end:
                raise SystemExit("console_pty: %r changed nothing; screen:\n%s"
                                 % (key, term.text()))
            t = term.pump(end - time.monotonic())
        print("%.3f" % ((t - t0) * 1000), flush=True)


if __name__ == "__main__":
    main()
