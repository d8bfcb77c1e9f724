"""The tables Scripts/bench prints."""

import re
import sys


def table(title, header, rows, notes=(), text=False):
    print()
    print(title)
    cells = [header] + [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = re.compile(r"^[-+0-9.<= ]*$")
    for n, row in enumerate(cells):
        print(("  " + row[0].ljust(widths[0]) + "  " + "  ".join(
            c.ljust(w) if text or not (numeric.match(c) or n == 0) else c.rjust(w) for c, w in zip(row[1:], widths[1:]))).rstrip())
        if n == 0:
            print("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    for note in notes:
        print("  " + note)
    sys.stdout.flush()


def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 1e5:
        return "%.0f" % value
    if abs(value) >= 100:
        return "%.0f" % value
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.2f" % value


def ratio(a, b):
    return a / b if a is not None and b else None
