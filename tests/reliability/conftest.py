"""Reliability suite: prints how many generated cases each property ran and how they ended (see
`reliability_tally`), plus the malformed-file corpus and kill points, at the end of the run."""

import json
import os

import reliability_tally as tally


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not (tally.STATS or tally.CORPUS or tally.KILLS):
        return
    write = terminalreporter.write_line
    terminalreporter.section("hfpose reliability: generated cases per property")
    write(f"{'property / case':66s} {'cases':>6s} {'ok':>5s} {'ValueError':>10s} {'TypeError':>9s}  other")
    for name in sorted(tally.STATS):
        counts = tally.STATS[name]
        other = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("ok", "ValueError", "TypeError"))
        write(
            f"{name[:66]:66s} {sum(counts.values()):6d} {counts['ok']:5d} {counts['ValueError']:10d} "
            f"{counts['TypeError']:9d}  {other}"
        )
    write("none failed" if exitstatus == 0 else f"pytest exit status {int(exitstatus)}: see the failures above")
    if tally.CORPUS:
        write(f"malformed annotation files tried: {len(tally.CORPUS)}")
    if tally.KILLS:
        write(f"kill points: {len(tally.KILLS)}: " + ", ".join(f"{k}={v}" for k, v in sorted(tally.KILLS.items())))
    path = os.environ.get("HFPOSE_RELIABILITY_REPORT")
    if path:
        with open(path, "w") as handle:
            json.dump(
                {
                    "properties": {k: dict(v) for k, v in tally.STATS.items()},
                    "corpus": tally.CORPUS,
                    "kills": tally.KILLS,
                    "exitstatus": int(exitstatus),
                },
                handle,
                indent=2,
                sort_keys=True,
            )
