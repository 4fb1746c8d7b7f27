"""How long does it take to add one letter to an index of 1,000 letters, and how much is embedded for it?

    .venv/bin/python benchmarks/bench_add.py [--letters 1000] [--seed 7] [--keep DIR]

Prints numbers, asserts nothing. See benchmarks/README.md for what each figure means.

The 1,000 base letters are synthetic (generated from templates, deterministic with --seed) and their
vectors are STAND-INS: a hash of each text turned into a unit vector, not the model's embedding.
Embedding 1,000 letters' ~60,000 chunks and sentences with the real model would take from ~15 min to
~2 h on 2 shared cores (~8-80 texts/s, depending on what else runs), and adding one letter does not
depend on what the old vectors are, only on how many there are: they are reused, copied and written,
never recomputed. The real model's share of an add
(embedding the new letter's own chunks and sentences) is measured separately and added on.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from letterqa import build, store  # noqa: E402
from letterqa.build import (add_letters, build_index, passage_text, sentence_spans,  # noqa: E402
                            sentence_text)
from letterqa.config import DEFAULT_MODEL, Settings, default_cache_dir  # noqa: E402
from letterqa.read import read_letter  # noqa: E402
from letterqa.sections import split_sections  # noqa: E402

NEW_LETTER = ROOT / "tests" / "data" / "letters" / "05_gd_transport_2023.md"   # a real letter, 2023, 广东


# ---------------------------------------------------------------- the stand-in embedder

class HashEmbedder:
    """Unit float32 vectors seeded by the sha256 of each text: deterministic and nearly free.

    It has the Embedder interface build/engine use (name, fingerprint, dim, encode_passages,
    encode_queries). It borrows the default model's fingerprint: build_index decides whether the old
    vectors are reusable from the fingerprint of `settings.model` (model.fingerprint_of), not from the
    embedder it is given, so a stand-in with its own fingerprint would make every build re-embed
    every letter. The borrowed fingerprint only ever labels the throw-away index in the temp folder.
    """

    name = DEFAULT_MODEL
    dim = 384

    def __init__(self):
        self.texts = 0
        try:
            from letterqa.model import fingerprint_of
            self.fingerprint = fingerprint_of(DEFAULT_MODEL, default_cache_dir())
        except ImportError:  # an older letterqa: the fingerprint of the embedder passed in is used
            self.fingerprint = "hash-standin-v1"

    def encode_passages(self, texts, batch_size: int = 16, show_progress: bool = False) -> np.ndarray:
        self.texts += len(texts)
        return self._vectors(texts, "passage: ")

    def encode_queries(self, texts) -> np.ndarray:
        return self._vectors(texts, "query: ")

    def _vectors(self, texts, prefix: str) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256((prefix + text).encode("utf-8")).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        return out


# ---------------------------------------------------------------- synthetic letters

PLACES = ["浙江省", "江苏省", "山东省", "河南省", "四川省", "广东省", "湖北省", "湖南省", "福建省", "安徽省",
          "河北省", "江西省", "陕西省", "云南省", "贵州省", "成都市", "杭州市", "青岛市", "厦门市", "宁波市"]
SHORT = {p: p[:2] for p in PLACES}
# (department, its short name for 文号, topics: (proposal topic, programme noun, unit noun))
DEPARTMENTS = [
    ("教育厅", "教", [("加强乡村学校师资队伍建设", "乡村教师支持计划", "名教师"),
                    ("推进义务教育优质均衡发展", "集团化办学", "所学校"),
                    ("加强中小学生心理健康教育", "心理辅导室", "个辅导室")]),
    ("生态环境厅", "环", [("加强城市噪声污染防治", "噪声自动监测站点", "个站点"),
                       ("推进农村生活污水治理", "污水处理设施", "座设施"),
                       ("加强重点流域水生态保护", "水质自动监测站", "个监测站")]),
    ("农业农村厅", "农", [("加大高标准农田建设投入", "高标准农田", "万亩"),
                       ("发展壮大农村集体经济", "集体经济强村", "个村"),
                       ("推进农业机械化提档升级", "农机合作社", "家合作社")]),
    ("卫生健康委员会", "卫", [("加强基层医疗卫生人才队伍建设", "定向医学生", "名医学生"),
                         ("推进紧密型县域医共体建设", "县域医共体", "个医共体"),
                         ("完善老年健康服务体系", "老年友善医疗机构", "家机构")]),
    ("交通运输厅", "交", [("推进四好农村路高质量发展", "农村公路", "公里"),
                       ("发展城乡客货邮融合", "客货邮融合线路", "条线路"),
                       ("加强公路危旧桥梁改造", "危旧桥梁改造", "座桥梁")]),
    ("工业和信息化厅", "工信", [("加快培育专精特新中小企业", "专精特新中小企业", "家企业"),
                           ("推进制造业数字化转型", "智能工厂", "家工厂"),
                           ("建设省级制造业创新中心", "制造业创新中心", "家中心")]),
    ("人力资源和社会保障厅", "人社", [("加强高技能人才培养", "技能大师工作室", "个工作室"),
                                ("促进高校毕业生就业", "就业见习岗位", "个岗位"),
                                ("完善灵活就业人员社会保障", "新就业形态参保", "万人")]),
    ("住房和城乡建设厅", "建", [("推进城镇老旧小区改造", "老旧小区改造", "个小区"),
                           ("加强城市地下管网建设", "地下管网改造", "公里"),
                           ("发展保障性租赁住房", "保障性租赁住房", "套住房")]),
    ("民政厅", "民", [("完善农村养老服务体系", "农村互助养老服务点", "个服务点"),
                   ("加强困境儿童关爱保护", "儿童之家", "个儿童之家"),
                   ("推进社区治理创新", "城乡社区综合服务设施", "个设施")]),
    ("文化和旅游厅", "文旅", [("推进乡村旅游高质量发展", "乡村旅游重点村", "个村"),
                          ("加强非物质文化遗产保护", "非遗工坊", "家工坊"),
                          ("完善公共文化服务体系", "城市书房", "家书房")]),
]
KINDS = [("人大代表建议", "代表", "建议"), ("政协提案", "委员", "提案")]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建华", "丽萍", "国强", "晓梅", "海涛", "志明", "秀英", "文军", "春燕", "德胜", "玉兰", "宏伟"]
LEVEL2 = ["健全工作机制", "加大资金投入", "强化队伍建设", "推进试点示范", "加强监督考核", "提升服务水平"]
NEXT2 = ["完善政策措施", "加大支持力度", "扩大覆盖范围", "强化考核评价", "推广试点经验"]
CN = "一二三四五六七八九十"
CN_DIGITS = "〇一二三四五六七八九"


def _cn_date(y: int, m: int, d: int) -> str:
    """2023, 9, 12 -> 二〇二三年九月十二日, as some letters sign."""
    def small(n: int) -> str:
        tens, units = divmod(n, 10)
        return (CN[tens - 1] if tens > 1 else "") + ("十" if tens else "") + (CN[units - 1] if units else "")
    return "".join(CN_DIGITS[int(c)] for c in str(y)) + f"年{small(m)}月{small(d)}日"


def synthetic_letter(i: int, rng: random.Random) -> str:
    """One reply letter in the genre: title, 文号, salutation, 一、/（一）/一是 sections, sign-off, contact."""
    place = rng.choice(PLACES)
    dept, short, topics = rng.choice(DEPARTMENTS)
    topic, programme, unit = rng.choice(topics)
    kind, role, noun = rng.choice(KINDS)
    year = rng.randint(2019, 2024)
    month, day = rng.randint(5, 11), rng.randint(1, 28)
    sender = (place + dept) if place.endswith("省") else place + dept.replace("厅", "局").replace("委员会", "委员会")
    person = rng.choice(SURNAMES) + rng.choice(GIVEN)
    n = lambda a, b: rng.randint(a, b)  # noqa: E731
    lines = [f"关于{place[:-1]}第{i + 1}号{noun}的答复", "",
             f"{SHORT[place]}{short}函〔{year}〕{n(1, 400)}号", "", f"{person}{role}：", "",
             f"您提出的《关于{topic}的{noun}》收悉。您的{noun}对我们改进工作很有帮助。"
             f"经认真研究，并商省财政厅，现答复如下：", "", "一、工作开展情况", ""]
    base = n(100, 9000)
    for j, head in enumerate(rng.sample(LEVEL2, n(3, 5))):
        items = []
        for k in range(n(2, 4)):
            amount, count = n(2, 90) / 10 * 10 ** n(0, 1), base + n(1, 900) * (k + 1)
            items.append(rng.choice([
                f"{CN[k]}是{year - 1}年全省{programme}达到{count}{unit}，较上年增长{n(5, 300) / 10}%。",
                f"{CN[k]}是安排专项资金{amount:.1f}亿元，支持{n(10, 300)}个县（市、区）开展{programme}建设。",
                f"{CN[k]}是印发《关于{topic}的实施意见》（{SHORT[place]}{short}发〔{year - 1}〕{n(1, 80)}号），"
                f"明确{programme}的建设标准和责任分工。",
                f"{CN[k]}是在{n(3, 30)}个市开展{programme}试点，试点地区群众满意度达到{n(850, 990) / 10}%。",
            ]))
        lines += [f"（{CN[j]}）{head}。" + "".join(items), ""]
    lines += ["二、下一步工作打算", ""]
    for j, head in enumerate(rng.sample(NEXT2, n(2, 4))):
        target = base + n(1000, 5000)
        subs = [f"{k + 1}.到{year + n(1, 3)}年，全省{programme}达到{target + 100 * k}{unit}以上。"
                if k % 2 == 0 else f"{k + 1}.每年安排省级补助资金{n(5, 80) * 100}万元，重点向欠发达地区倾斜。"
                for k in range(n(2, 3))]
        lines += [f"（{CN[j]}）{head}。", *subs, ""]
    lines += [f"三、关于您提出的{rng.choice(['资金保障', '人才支撑', '考核评价'])}问题", ""]
    for j in range(n(1, 3)):
        lines += [f"（{CN[j]}）您在{noun}中提到的{rng.choice(['基层力量薄弱', '资金缺口较大', '标准不够统一', '群众参与不足'])}"
                  f"问题，我们高度重视。{rng.choice(PLACES[:10])}等地已开展有益探索，形成了一批可复制可推广的经验做法。"
                  f"下一步，我们将会同有关部门深入调研，力争在{year + 1}年底前出台配套措施，"
                  f"推动{programme}工作再上新台阶。", ""]
    lines += [f"感谢您对{dept.replace('厅', '').replace('委员会', '')}工作的关心和支持。", "", sender,
              _cn_date(year, month, day) if rng.random() < 0.2 else f"{year}年{month}月{day}日", "",
              f"（联系单位及电话：{dept[:2]}处，0{n(10, 999)}-{n(60000000, 89999999)}）"]
    return "\n".join(lines) + "\n"


def write_corpus(folder: Path, count: int, seed: int) -> int:
    """`count` synthetic letters as UTF-8 .txt files; returns their total size in bytes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    total = 0
    for i in range(count):
        path = folder / f"synthetic_{i:04d}.txt"
        path.write_text(synthetic_letter(i, rng), encoding="utf-8")  # its number in the title: unique
        total += path.stat().st_size
    return total


# ---------------------------------------------------------------- measuring

class Phases:
    """Wall time spent inside some library functions, by wrapping them from outside (src untouched)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    @contextmanager
    def watch(self, targets):
        saved = []
        for module, attr, label, _ in targets:
            original = getattr(module, attr)
            saved.append((module, attr, original))
            setattr(module, attr, self._timed(original, label))
        try:
            yield self
        finally:
            for module, attr, original in saved:
                setattr(module, attr, original)

    def _timed(self, fn, label):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1
        return wrapper


def quiet(fraction: float, stage: str) -> None:
    """A progress callback: passing one turns the build's own tqdm bar off."""


def phase_targets():
    """(module, function, label, depth): depth 1 runs inside the depth-0 phase above it."""
    return [(build, "_indexed_letter_ids", "add: known letter ids", 0),
            (build, "read_letter", "add: read new letter", 0),
            (build, "_reusable_index", "build: load old index", 0),
            (build, "_plan", "build: plan", 0),
            (build, "file_sha256", "sha256 of corpus files", 1),
            (build, "_reused_part", "reuse old rows", 1),
            (build, "_embed", "build: embed (stand-in)", 0),
            (build, "_write", "build: write", 0),
            (build, "tokenize", "tokenise new chunks", 1),
            (store, "write_build", "files + fsync + swap", 1)]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--letters", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeats", type=int, default=3, help="timed adds of the new letter (median reported)")
    p.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder, removed)")
    args = p.parse_args(argv)

    import logging
    logging.basicConfig(level=logging.WARNING)

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_add-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    settings = Settings(corpus=work / "corpus", index=work / "index")
    standin = HashEmbedder()
    print(f"bench_add  {time.strftime('%Y-%m-%d %H:%M')}  python {platform.python_version()}  "
          f"{platform.machine()}  {os.cpu_count()} cores  load avg {os.getloadavg()[0]:.1f}")
    print("NOTE: the base index holds synthetic letters with STAND-IN vectors (sha256 of the text -> unit")
    print("      vector), not model embeddings: the real model would need 15 min to 2 h for them here.")
    print("      Adding a letter reuses old vectors without looking at them, so only their number matters.")
    try:
        started = time.perf_counter()
        corpus_bytes = write_corpus(settings.corpus, args.letters, args.seed)
        print(f"\ncorpus: {args.letters} synthetic letters, {mb(corpus_bytes)}, "
              f"written in {time.perf_counter() - started:.1f} s (seed {args.seed})")

        base = build_index(settings, embedder=standin, progress=quiet)
        base_texts = standin.texts
        live = store.live_build(settings.index)
        print(f"base build (stand-in vectors): {base.seconds:.1f} s  "
              f"[{base.letters} letters, {base.chunks} chunks, {standin.texts} chunk+sentence texts embedded]")
        print(f"index size on disk: {mb(folder_bytes(live))} (live build folder)")

        nochange = build_index(settings, embedder=standin, progress=quiet)
        print(f"no-change build: {nochange.seconds:.2f} s  [embedded {nochange.embedded_letters} letters, "
              f"{nochange.embedded_chunks} chunks; reused {nochange.reused_letters}]")

        # ---- add ONE real letter, with the stand-in: the pure pipeline time
        adds, phases_runs, report = [], [], None
        for run in range(args.repeats):
            if run:  # take it out again so the next add is a real add, not a duplicate
                (settings.corpus / NEW_LETTER.name).unlink()
                build_index(settings, embedder=standin, progress=quiet)
            phases = Phases()
            with phases.watch(phase_targets()):
                started = time.perf_counter()
                report = add_letters(settings, [NEW_LETTER], embedder=standin, progress=quiet)
                adds.append(time.perf_counter() - started)
            phases_runs.append(phases)
            if not report.added:
                print(f"could not add {NEW_LETTER}: {report.errors or report.duplicates}", file=sys.stderr)
                return 1
        pipeline = statistics.median_low(adds)
        print(f"\nadd {NEW_LETTER.name} (real letter) to {args.letters} letters, stand-in embedder:")
        print(f"  (a) pipeline time: {pipeline:.2f} s  (median of {len(adds)} runs: "
              + ", ".join(f"{s:.2f}" for s in adds) + ")")
        print(f"  chunks embedded for it: {report.embedded_chunks} (BuildReport.embedded_chunks), "
              f"letters embedded {report.embedded_letters}, reused letters {report.reused_letters}")
        median_run = phases_runs[adds.index(pipeline)]
        print("  where the time goes (the median run; indented lines are part of the line above them):")
        for _, _, label, depth in phase_targets():
            if label in median_run.seconds:
                print(f"    {'  ' * depth}{label:{30 - 2 * depth}} {median_run.seconds[label]:6.2f} s"
                      f"  ({median_run.calls[label]} call{'s' if median_run.calls[label] > 1 else ''})")
        print(f"  index size on disk after the add: {mb(folder_bytes(store.live_build(settings.index)))}")

        # ---- the real model's share: embed that letter's chunks and sentences
        from letterqa.model import load_embedder

        letter = read_letter(NEW_LETTER)
        chunks = split_sections(letter, settings.max_chunk_chars)
        texts = [passage_text(c) for c in chunks] + [sentence_text(chunks[i], a, b)
                                                      for i, a, b in sentence_spans(chunks)]
        started = time.perf_counter()
        real = load_embedder(DEFAULT_MODEL, default_cache_dir())
        load_s = time.perf_counter() - started
        real.encode_passages(["预热：模型第一次调用。"], batch_size=settings.batch_size)  # warm-up, not timed
        embeds = []
        for _ in range(2):
            started = time.perf_counter()
            real.encode_passages(texts, batch_size=settings.batch_size)
            embeds.append(time.perf_counter() - started)
        embed_s = min(embeds)
        print(f"\nreal model ({DEFAULT_MODEL}), loaded in {load_s:.1f} s (not counted below):")
        print(f"  (b) embedding the new letter: {embed_s:.2f} s for {len(chunks)} chunks + "
              f"{len(texts) - len(chunks)} sentences = {len(texts)} texts "
              f"({len(texts) / embed_s:.1f} texts/s; best of {len(embeds)}: "
              + ", ".join(f"{s:.2f}" for s in embeds) + ")")
        print(f"  (a) + (b) = {pipeline + embed_s:.2f} s to add one letter to {args.letters} letters "
              f"with the real model (model already loaded)")
        print(f"  for scale: the base letters' {base_texts:,} texts would take "
              f"~{base_texts / (len(texts) / embed_s) / 60:.0f} min with the real model at this rate")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
