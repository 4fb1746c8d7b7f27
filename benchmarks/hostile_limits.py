"""Time and extra memory to refuse the issue's two worst files: a ~1 MB .docx whose document.xml
inflates to 300 MB, and a 2,000-page PDF; then the worst files still read, just under the caps. Each is read in a fresh process (so the RSS figure is
this file's alone), after the readers' libraries are imported.

    .venv/bin/python benchmarks/hostile_limits.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

CHILD = r"""
import json, resource, sys, time
import bs4, docx, lxml, pypdf  # imported before the baseline: the figure is the file's own cost
from letterqa.errors import BadLetterError
from letterqa.read import read_letter

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS")) / 1024

base, started = rss_mb(), time.perf_counter()
try:
    read_letter(sys.argv[1], max_bytes=20 * 2**20)
    outcome = "ACCEPTED"
except BadLetterError as exc:
    outcome = str(exc)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - started, "extra_mb": max(peak - base, 0), "outcome": outcome}))
"""


def main() -> None:
    import hostile_files as hf

    with tempfile.TemporaryDirectory() as tmp:
        cases = {"zip bomb .docx (document.xml inflates to 300 MB)": hf.zip_bomb_docx(Path(tmp) / "bomb.docx", 300),
                 "the same, headers claiming 1 KB (40 MB inflated)": hf.lying_zip_docx(Path(tmp) / "lying.docx"),
                 "2,000-page PDF": hf.many_pages_pdf(Path(tmp) / "pages.pdf", 2000),
                 # The worst that is still read: just under the caps.
                 ".docx with a 15 MB document.xml": hf.zip_bomb_docx(Path(tmp) / "xml15.docx", 15),
                 "300-page PDF": hf.many_pages_pdf(Path(tmp) / "pages300.pdf", 300)}
        print(f"{'file':52} {'on disk':>9} {'seconds':>8} {'extra RSS':>10}  message")
        for label, path in cases.items():
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{label:52} {path.stat().st_size / 2**20:7.2f}MB {r['seconds']:8.2f} {r['extra_mb']:8.0f}MB  "
                  f"{r['outcome']}")


if __name__ == "__main__":
    main()
