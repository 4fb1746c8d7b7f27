"""A damaged index and interrupted builds and adds. Every damaged file gives `ask` and `letters` one
line naming the fix; `build` repairs it from corpus/ and says so; a fault injected at each step of a
build (deterministically, through `on_step` or by making one store step fail) leaves the old index
live, no half-written folder, and a next build that succeeds. The letters indexed before still answer."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import hostile_files as hf
from letterqa import store
from letterqa.answer import strip_marks
from letterqa.build import BUILD_STEPS, add_letters, build_index
from letterqa.cli import main
from letterqa.config import Settings
from letterqa.engine import Engine
from letterqa.errors import DamagedIndexError

QUESTION, FIGURE = "今年新建了多少万亩高标准农田?", "120万亩"
SECOND = ("厦门市海洋发展局", "近海养殖尾水治理示范点建成13个")


def _letter(sender: str, fact: str) -> str:
    return (f"王某某代表：\n您提出的《关于{fact}的建议》收悉。现答复如下：\n一、工作进展\n"
            f"（一）总体情况。今年以来，{fact}，取得明显成效。\n二、下一步打算\n继续推进{fact}相关工作。\n"
            f"{sender}\n2023年6月1日\n")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, embedder) -> Settings:
    """A one-letter index that builds in a second, so each damage case can rebuild it."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "corpus").mkdir()
    (root / "corpus" / "farm.txt").write_text(hf.SHORT_LETTER, encoding="utf-8")
    settings = Settings(corpus=root / "corpus", index=root / "index")
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture
def clone(tiny, tmp_path) -> Settings:
    shutil.copytree(tiny.corpus, tmp_path / "corpus")
    shutil.copytree(tiny.index, tmp_path / "index")
    return Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")


@pytest.fixture
def cli_embedder(monkeypatch, embedder):
    monkeypatch.setattr("letterqa.model.load_embedder", lambda *args, **kwargs: embedder)
    return embedder


def _answers(settings: Settings, embedder) -> None:
    answer = Engine.open(settings, embedder=embedder).ask(QUESTION)
    assert answer.answered and FIGURE in strip_marks(answer.text), answer.text


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _live(settings: Settings) -> Path:
    return store.live_build(settings.index)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "vectors.faiss truncated": lambda s: _truncate(_live(s) / "vectors.faiss"),
    "vectors.faiss empty": lambda s: (_live(s) / "vectors.faiss").write_bytes(b""),
    "vectors.faiss missing": lambda s: (_live(s) / "vectors.faiss").unlink(),
    "vectors.faiss garbage": lambda s: (_live(s) / "vectors.faiss").write_bytes(b"IxF2" + bytes(500)),
    "sentence_vectors.faiss truncated": lambda s: _truncate(_live(s) / "sentence_vectors.faiss"),
    "sentence_vectors.faiss empty": lambda s: (_live(s) / "sentence_vectors.faiss").write_bytes(b""),
    "sentence_vectors.faiss missing": lambda s: (_live(s) / "sentence_vectors.faiss").unlink(),
    "sentences.npy truncated": lambda s: _truncate(_live(s) / "sentences.npy"),
    "sentences.npy wrong shape": lambda s: np.save(_live(s) / "sentences.npy", np.zeros(7, np.int32)),
    "CURRENT invalid bytes": lambda s: (s.index / "CURRENT").write_bytes(b"\xff\xfe\xc0build"),
    "CURRENT points outside": lambda s: (s.index / "CURRENT").write_text("../../etc\n"),
    "manifest without letters": lambda s: _edit_manifest(s, lambda m: m.pop("letters")),
    "manifest entry without rows": lambda s: _edit_manifest(s, lambda m: m["letters"][0].pop("rows")),
    "manifest rows out of range": lambda s: _edit_manifest(s, lambda m: m["letters"][0].update(rows=[0, 999])),
    "manifest not JSON": lambda s: (_live(s) / "manifest.json").write_text("{\"letters\": [", encoding="utf-8"),
    "manifest a list": lambda s: (_live(s) / "manifest.json").write_text("[]", encoding="utf-8"),
    "letters.jsonl garbage": lambda s: (_live(s) / "letters.jsonl").write_bytes(b"\x00\xff not json\n"),
    "letters.jsonl unknown field": lambda s: (_live(s) / "letters.jsonl").write_text('{"x": 1}\n'),
    "chunks.jsonl truncated": lambda s: _truncate(_live(s) / "chunks.jsonl"),
}


def _edit_manifest(settings: Settings, change) -> None:
    import json

    path = _live(settings) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_gives_one_line_and_build_repairs_it(damage, clone, cli_embedder, capsys):
    DAMAGE[damage](clone)
    where = ["--corpus", clone.corpus, "--index", clone.index]
    code, out, err = _run(capsys, "ask", QUESTION, *where)
    assert code == 1 and out == "" and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("letterqa: ") and "letterqa build" in line, line
    code, out, err = _run(capsys, "letters", *where)
    assert "Traceback" not in err and (code == 0 or "letterqa build" in err)

    code, out, err = _run(capsys, "build", *where)
    assert code == 0 and "Traceback" not in err, err
    assert "repaired: the index in" in err and "rebuilt from" in err
    assert "1 letters" in out
    _answers(clone, cli_embedder)
    code, _, err = _run(capsys, "build", *where)          # and the repair is not repeated
    assert code == 0 and "repaired" not in err


def test_a_damaged_index_is_a_damaged_index_error_for_the_library(clone):
    DAMAGE["vectors.faiss truncated"](clone)
    with pytest.raises(DamagedIndexError, match=r"vectors.faiss cannot be read by FAISS.*letterqa build"):
        store.load_index(clone.index)


# ---------------------------------------------------------------- faults at each step of a build

def _add_second_letter(settings: Settings) -> None:
    (settings.corpus / "sea.txt").write_text(_letter(*SECOND), encoding="utf-8")


def _check_old_index_whole(settings: Settings, before: Path, embedder) -> None:
    assert store.live_build(settings.index) == before
    assert not list(settings.index.glob("*.partial"))
    _answers(settings, embedder)


@pytest.mark.parametrize("step", BUILD_STEPS[:-1])
def test_a_fault_at_each_build_step_leaves_the_old_index(step, clone, embedder):
    _add_second_letter(clone)
    before = _live(clone)

    def fail(name):
        if name == step:
            raise RuntimeError(f"injected at {name}")

    with pytest.raises(RuntimeError, match="injected"):
        build_index(clone, embedder=embedder, on_step=fail)
    _check_old_index_whole(clone, before, embedder)
    assert build_index(clone, embedder=embedder).letters == 2


STORE_STEPS = {  # store functions called in order while a build folder is written and swapped in
    "vectors": "write_flat", "jsonl": "_write_jsonl", "manifest": "_write_json", "fsync": "_fsync_dir",
    "pointer": "_point_to",
}


@pytest.mark.parametrize("step", list(STORE_STEPS))
def test_a_fault_while_writing_the_index_leaves_the_old_one(step, clone, embedder, monkeypatch):
    _add_second_letter(clone)
    before = _live(clone)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(store, STORE_STEPS[step], fail)
    with pytest.raises(OSError, match="injected"):
        build_index(clone, embedder=embedder)
    monkeypatch.undo()
    _check_old_index_whole(clone, before, embedder)
    report = build_index(clone, embedder=embedder)
    assert report.letters == 2 and not list(clone.index.glob("*.partial"))


def test_a_fault_after_the_swap_leaves_the_new_index(clone, embedder, monkeypatch):
    _add_second_letter(clone)
    monkeypatch.setattr(store, "_remove_old_builds", lambda *a, **k: (_ for _ in ()).throw(OSError("injected")))
    with pytest.raises(OSError):
        build_index(clone, embedder=embedder)
    monkeypatch.undo()
    assert len(store.load_index(clone.index).letters) == 2
    _answers(clone, embedder)


def test_a_killed_builds_partial_folder_is_removed_by_the_next_build(clone, embedder):
    stale = clone.index / "build-20200101T000000-999999999-1.partial"   # pid 999999999 is not running
    stale.mkdir()
    (stale / "vectors.faiss").write_bytes(b"half")
    _add_second_letter(clone)
    build_index(clone, embedder=embedder)
    assert not stale.exists()


# ---------------------------------------------------------------- interrupted adds

def test_an_add_killed_while_copying_leaves_nothing_in_the_corpus(clone, embedder, tmp_path, monkeypatch):
    upload = tmp_path / "sea.txt"
    upload.write_text(_letter(*SECOND), encoding="utf-8")

    def half_copy(src, dst):
        Path(dst).write_bytes(Path(src).read_bytes()[:40])
        raise KeyboardInterrupt

    monkeypatch.setattr("letterqa.build.shutil.copyfile", half_copy)
    with pytest.raises(KeyboardInterrupt):
        add_letters(clone, [upload], embedder=embedder)
    monkeypatch.undo()
    assert sorted(p.name for p in clone.corpus.iterdir() if not p.name.startswith(".")) == ["farm.txt"]
    assert not list((clone.corpus / ".staging").iterdir())


def test_an_add_killed_before_indexing_is_reported_and_finished_by_the_next_build(clone, embedder, tmp_path,
                                                                                  monkeypatch, capsys):
    upload = tmp_path / "sea.txt"
    upload.write_text(_letter(*SECOND), encoding="utf-8")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("letterqa.build.build_index", killed)
    with pytest.raises(KeyboardInterrupt):
        add_letters(clone, [upload], embedder=embedder)
    monkeypatch.undo()
    where = ["--corpus", clone.corpus, "--index", clone.index]
    code, out, _ = _run(capsys, "letters", "--problems", *where)
    assert code == 1 and out.strip() == "sea.txt: not indexed yet: run `letterqa build`"
    report = build_index(clone, embedder=embedder)
    assert report.embedded_letters == 1 and report.letters == 2
    code, out, _ = _run(capsys, "letters", "--problems", *where)
    assert code == 0 and "every letter file" in out
