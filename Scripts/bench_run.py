"""Scripts/bench's driver: runs nacho (NACHO_BIN) and aiortc against fresh test room servers
(Tests/RoomServer) on 127.0.0.1, samples /proc and the server's /state, prints tables.

    bench_run.py [--json FILE] [machine] [participant] [receive] [alloc] [packets [ITERATIONS]] [send] [bots] [load]

No name runs all but bots and load (bots takes about 15 minutes; they run only when named).

BENCH_QUIET_WAIT: seconds each run may wait for other processes to quiet down first (default
30, 0 = never wait). For bots: BENCH_BOTS_SIZES (participants per room, default "1 4 16"),
BENCH_ROOM_SECONDS (each step of the largest-room search, default 60), BENCH_ROOM_MAX (the
largest k tried, a room being k video + k audio publishers + 2k subscribers; default 64),
BENCH_ROOM_STEPS (at most that many steps, default 8).

Environment (Scripts/bench sets them): NACHO_BIN, NACHO_BENCH_BIN (nacho-bench, for packets),
NACHO_BENCH_SCRATCH (a scratch directory; child pids are listed in its `pids` file so the
shell's EXIT trap can end them even if this process is killed), MALLOC_COUNT_LIB (the
LD_PRELOAD allocation counter, for alloc).

The benchmarks live in bench_media.py (issue 9's media path), bench_send.py (issue 17's send
path against its encoder alone) and bench_bots.py (issue 10's bots), on bench_common.py (processes, servers, sampling); bench_nacho.py reads nacho's own
figures through `nacho report --json`; bench_table.py prints. Every figure is measured,
nothing is asserted. See docs/BENCHMARKS.md for how to read them."""

import json
import signal
import sys

from bench_bots import bench_bots
from bench_common import cleanup, results
from bench_load import bench_load
from bench_media import bench_alloc, bench_machine, bench_packets, bench_participant, bench_receive
from bench_send import bench_send

# In the order they run; bots (about 15 minutes) and load (nacho-load-source; a few minutes) run only when named.
BENCHMARKS = {"machine": bench_machine, "participant": bench_participant, "receive": bench_receive, "alloc": bench_alloc,
              "packets": bench_packets, "send": bench_send, "bots": bench_bots, "load": bench_load}
ONLY_WHEN_NAMED = ("bots", "load")


def main(argv):
    json_out = None
    if "--json" in argv:
        index = argv.index("--json")
        json_out = argv[index + 1]
        del argv[index:index + 2]
    known = list(BENCHMARKS)
    selected = [a for a in argv if a in known] or [k for k in known if k not in ONLY_WHEN_NAMED]
    iterations = next((a for a in argv if a.isdigit()), "200000")
    unknown = [a for a in argv if a not in known and not a.isdigit()]
    if unknown:
        sys.exit("bench: unknown benchmark %s (known: %s)" % (", ".join(unknown), ", ".join(known)))
    failed = []
    for name in known:
        if name in selected:
            try:
                BENCHMARKS[name](*([iterations] if name == "packets" else []))
            except RuntimeError as error:
                # One benchmark that could not run (a server that did not start, a participant
                # that left early) does not stop the others.
                print("\n  !! %s failed: %s" % (name, error))
                failed.append(name)
            finally:
                cleanup()
    if json_out:
        with open(json_out, "w") as f:
            json.dump(results, f, indent=1, default=str)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    try:
        main(sys.argv[1:])
    finally:
        cleanup()
