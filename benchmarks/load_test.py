"""Load test, loopback only: N chat users ask questions for S seconds while letters are uploaded.

    .venv/bin/python benchmarks/load_test.py [--users 20] [--seconds 60]

Starts its own `letterqa serve` on 127.0.0.1 over a temporary copy of the first letter (set with
LETTERQA_CORPUS / LETTERQA_INDEX, so the repository's corpus/ is never touched), then runs N threads,
each with its own gradio_client, asking in a loop through the chat's `/chat` endpoint, while one more
client uploads the four test letters through `/upload`, one after another. Prints latency p50/p95/max,
failures (an error, a timeout, a ⚠️ message, or the first letter's known fact missing from its answer),
the uploads, and the server's RSS. Asserts nothing; stops the server it started.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LETTERS = ROOT / "tests" / "data" / "letters"
UPLOADS = ["01_zj_education_2023.html", "02_cd_environment_2022.docx", "03_ha_agriculture_2021_gb18030.txt",
           "04_sc_health_2024.pdf"]
KNOWN = ("2023年新认定多少家省制造业创新中心?", "6家")
QUESTIONS = [KNOWN[0], "到2025年专精特新中小企业的培育目标是多少?", "信息技术产业营收增长了多少?",
             "How many provincial manufacturing innovation centres were newly recognised in 2023?",
             "成都全市累计建成多少个噪声自动监测站点?", "明天济南天气怎么样?"]
TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
    except (OSError, StopIteration):
        return 0.0


def _start_server(workdir: Path, port: int) -> tuple[subprocess.Popen, dict]:
    env = dict(os.environ, LETTERQA_CORPUS=str(workdir / "corpus"), LETTERQA_INDEX=str(workdir / "index"),
               GRADIO_ANALYTICS_ENABLED="False")
    letterqa = [sys.executable, "-m", "letterqa.cli"]
    subprocess.run(letterqa + ["build"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(letterqa + ["serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(workdir / "serve.log", "w"))
    return server, env


def _client(url: str, deadline: float):
    from gradio_client import Client

    while True:
        try:
            return Client(url, verbose=False)
        except Exception:  # not listening yet
            if time.time() > deadline:
                raise
            time.sleep(1)


def _answer_text(record) -> str:
    """The answer text of the chat's `ask --json` record (the fourth output of /chat)."""
    record = json.loads(record) if isinstance(record, str) else (record or {})
    return str(record.get("answer", ""))


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def record(self, seconds: float, failure: str | None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if failure:
                self.failures.append(failure)


def _user(url: str, offset: int, stop: float, tally: Tally, think: float) -> None:
    client = _client(url, time.time() + 120)
    i = offset
    while time.time() < stop:
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        started = time.perf_counter()
        failure = None
        try:
            _, _, _, record = client.submit(question, [], "", "", "", api_name="/chat").result(timeout=TIMEOUT)
            text = _answer_text(record)
            if text.startswith("⚠️"):
                failure = f"{question}: {text[:120]}"
            elif question == KNOWN[0] and KNOWN[1] not in text:
                failure = f"{question}: answer lacks {KNOWN[1]}: {text[:120]}"
        except Exception as exc:  # a load test counts every kind of failure
            failure = f"{question}: {type(exc).__name__}: {str(exc)[:120]}"
        tally.record(time.perf_counter() - started, failure)
        time.sleep(think)


def _uploader(url: str, stop: float, results: list) -> None:
    from gradio_client import handle_file

    client = _client(url, time.time() + 120)
    for name in UPLOADS:
        if time.time() >= stop:
            break
        started = time.perf_counter()
        try:
            card = client.submit([handle_file(str(LETTERS / name))], [], api_name="/upload").result(timeout=300)[0]
            status = " ".join(re.sub(r"<[^>]+>", " ", card or "").split())
            results.append((name, time.perf_counter() - started, status[:100]))
        except Exception as exc:
            results.append((name, time.perf_counter() - started, f"FAILED {type(exc).__name__}: {exc}"))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="seconds a user waits between questions")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="letterqa-load-"))
    (workdir / "corpus").mkdir()
    shutil.copy(ROOT / "corpus" / "000_04222e28d1224f39.txt", workdir / "corpus")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    server, _ = _start_server(workdir, port)
    rss, sampling = [], True
    try:
        _client(url, time.time() + 180)  # wait for the model to load and the port to open
        idle_rss = _rss_mb(server.pid)

        def sample():
            while sampling:
                rss.append(_rss_mb(server.pid))
                time.sleep(0.5)

        threading.Thread(target=sample, daemon=True).start()
        tally, uploads = Tally(), []
        stop = time.time() + args.seconds
        threads = [threading.Thread(target=_user, args=(url, i, stop, tally, args.think)) for i in range(args.users)]
        threads.append(threading.Thread(target=_uploader, args=(url, stop, uploads)))
        started = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - started
    finally:
        sampling = False
        server.terminate()
        server.wait(timeout=30)
    lat = tally.latencies
    print(f"{args.users} users for {args.seconds:.0f} s on {url} (loopback), {os.cpu_count()} cores, wall {wall:.0f} s, "
          f"load average {os.getloadavg()[0]:.1f}, think time {args.think:g} s")
    print(f"questions: {len(lat)}  ({len(lat) / wall:.1f}/s)   failures: {len(tally.failures)}")
    print(f"latency: p50 {statistics.median(lat):.2f} s   p95 {_pct(lat, 0.95):.2f} s   max {max(lat):.2f} s")
    for name, seconds, status in uploads:
        print(f"upload {name}: {seconds:.1f} s  {status}")
    print(f"server RSS: idle {idle_rss:.0f} MB, peak {max(rss, default=0):.0f} MB, end {rss[-1] if rss else 0:.0f} MB")
    for failure in tally.failures[:10]:
        print("  failed:", failure)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
