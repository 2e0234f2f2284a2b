"""The triage text classifier vs a plain char-TF-IDF + LinearSVC baseline, in the same run.

    .venv/bin/python bench/classifier.py                 # all corpora, 100k-row training time
    .venv/bin/python bench/classifier.py --scale-rows 0  # skip the 100k-row timing

Corpora (no public data set is available offline; see docs/classifier.md for what these can and
cannot tell):
  demo-sub    the demo city's generator (`renzhi.demo.texts`), 51 subcategories: trained on
              seed 1, tested on seed 2. Same templates on both sides, so this mostly measures
              how the model copes with the generator's noise (typos, mixed issues, 5% texts
              filed under a neighbouring subcategory), not generalisation.
  demo-top    the same texts labelled with the 10 first-level categories.
  hard-7      a different generator written here, 7 first-level classes named like the public
              12345 message benchmarks, long letter-style messages: every class's topic words
              are split, and 35% of them appear ONLY in the test set; a fifth of the messages
              carry a sentence of another class; 3% of labels are wrong on both sides; much
              shared boilerplate. Measures generalisation to unseen phrasing.
For each: accuracy, macro-F1, training time, one-message latency (median, p99) and batch
throughput, and the calibration error (ECE) of our probabilities. `--scale-rows` also times
training on that many long demo texts (the "trains on 2 cores in minutes" requirement).
Prints a table and writes bench/results/classifier.json. No database, no network.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import benchkit
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "bench" / "results" / "classifier.json"

from renzhi.triage.evaluation import score  # noqa: E402
from renzhi.triage.model import TextClassifier  # noqa: E402

Corpus = tuple[list[str], list[str]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=20000, help="training rows per corpus")
    parser.add_argument("--test", type=int, default=5000, help="test rows per corpus")
    parser.add_argument("--scale-rows", type=int, default=100_000, help="0 skips the timing")
    parser.add_argument("--latency-texts", type=int, default=2000)
    parser.add_argument("--corpora", default="demo-sub,demo-top,hard-7")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    result = {
        "benchmark": "classifier",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "train_rows": args.train,
        "test_rows": args.test,
        "corpora": {},
    }
    for name in args.corpora.split(","):
        train, test = CORPORA[name](args.train, args.test)
        print(
            f"{name}: {len(set(train[1]))} classes, {len(train[0])} train / {len(test[0])} test",
            flush=True,
        )
        models = {
            "baseline": _measure(Baseline(), train, test, args.latency_texts),
            "ours": _measure(TextClassifier(), train, test, args.latency_texts),
        }
        print(f"  {json.dumps(models)}", flush=True)
        result["corpora"][name] = {
            "classes": len(set(train[1])),
            "mean_chars": round(statistics.mean(len(t) for t in test[0]), 1),
            "models": models,
        }
    if args.scale_rows:
        result["scale"] = _scale(args.scale_rows)
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    _print_table(result)
    if not args.no_write:
        RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print(f"wrote {RESULT.relative_to(ROOT)}")


# --- the models --------------------------------------------------------------------------------


class Baseline:
    """The textbook model: char 1-3-gram TF-IDF (sublinear tf) + LinearSVC, sklearn defaults."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        self.pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
            LinearSVC(C=1.0),
        )

    def fit(self, texts: list[str], labels: list[str]) -> Baseline:
        self.pipeline.fit(texts, labels)
        return self

    def predict(self, texts: list[str]) -> list[str]:
        return [str(p) for p in self.pipeline.predict(texts)]


def _measure(model, train: Corpus, test: Corpus, n_latency: int) -> dict:
    started = time.perf_counter()
    model.fit(*train)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predicted = model.predict(test[0])
    batch_s = time.perf_counter() - started
    report = score(test[1], predicted)
    one = model.predict_proba if isinstance(model, TextClassifier) else model.predict
    latencies = []
    for text in test[0][:n_latency]:
        t0 = time.perf_counter()
        one([text])
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    row = {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "fit_seconds": round(fit_s, 2),
        "latency_ms_median": round(statistics.median(latencies), 4),
        "latency_ms_p99": round(latencies[int(0.99 * (len(latencies) - 1))], 4),
        "batch_texts_per_second": round(len(test[0]) / batch_s),
    }
    if isinstance(model, TextClassifier):
        classes, probs = model.predict_proba(test[0])
        row["ece"] = round(_ece(classes, probs, test[1]), 4)
        row["mean_confidence"] = round(float(probs.max(axis=1).mean()), 4)
        row["cv_macro_f1"] = model.metadata["cv"]["macro_f1"]
    return row


def _ece(classes: list[str], probs: np.ndarray, truth: list[str], bins: int = 15) -> float:
    """Expected calibration error of the top probability (0 = perfectly calibrated)."""
    top = probs.max(axis=1)
    correct = np.array([classes[i] == t for i, t in zip(probs.argmax(axis=1), truth, strict=True)])
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (top > lo) & (top <= hi)
        if mask.any():
            total += mask.mean() * abs(top[mask].mean() - correct[mask].mean())
    return total


def _scale(rows: int) -> dict:
    """Training time of our model on `rows` long demo texts (two appeals glued = ~150 chars)."""
    texts, labels = _demo(rows, seed=7, level=2)
    rng = random.Random(7)
    texts = [t + rng.choice(texts) if rng.random() < 0.5 else t for t in texts]
    started = time.perf_counter()
    clf = TextClassifier().fit(texts, labels)
    seconds = time.perf_counter() - started
    print(f"scale: {rows} rows, {len(set(labels))} classes: fit in {seconds:.1f} s")
    return {
        "rows": rows,
        "classes": len(set(labels)),
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
        "fit_seconds": round(seconds, 1),
        "features": clf.metadata["n_features"],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }


# --- corpora -----------------------------------------------------------------------------------


def _demo(n: int, seed: int, level: int) -> Corpus:
    from renzhi.demo import texts
    from renzhi.demo.categories import CATEGORIES

    rng = random.Random(seed)
    subs = [
        (c["code"], s["code"], s["weight"])
        for c in CATEGORIES
        for s in c["children"]
        if s["code"] in texts.RESIDENT
    ]
    weights = [w for *_, w in subs]
    communities = list(texts.ESTATES)
    channels = ["web", "web", "web", "hotline", "hotline", "api", "import", "patrol"]
    out_texts, out_labels = [], []
    for _ in range(n):
        top, sub, _w = rng.choices(subs, weights=weights)[0]
        community = rng.choice(communities)
        ctx = texts.Context(
            community, rng.choice(["花家地社区", "将台社区", "东湖社区"]), community[:9]
        )
        text, _ = texts.description(sub, rng.choice(channels), rng, ctx)
        out_texts.append(text)
        out_labels.append(sub if level == 2 else top)
    return out_texts, out_labels


def demo_sub(n_train: int, n_test: int) -> tuple[Corpus, Corpus]:
    return _demo(n_train, 1, 2), _demo(n_test, 2, 2)


def demo_top(n_train: int, n_test: int) -> tuple[Corpus, Corpus]:
    return _demo(n_train, 1, 1), _demo(n_test, 2, 1)


# The hard corpus: topic words per class, split so that part of them is seen only in testing.
HARD: dict[str, dict[str, list[str]]] = {
    "城乡建设": {
        "things": [
            "小区道路",
            "老旧小区改造",
            "安置房",
            "拆迁补偿",
            "房产证",
            "公租房",
            "棚户区",
            "市政管网",
            "违章建筑",
            "物业公司",
            "电梯加装",
            "小区绿化",
            "房屋质量",
            "开发商",
            "路灯",
            "排水管道",
            "燃气管道",
            "供水管网",
            "城中村",
            "商品房交房",
        ],
        "troubles": [
            "迟迟不办理",
            "质量太差出现裂缝",
            "一直没有动工",
            "补偿标准太低",
            "延期交房",
            "私自加建",
            "长期积水",
            "年久失修",
            "规划不合理",
            "墙体开裂渗水",
            "办证拖了好几年",
            "验收不合格",
        ],
    },
    "环境保护": {
        "things": [
            "化工厂",
            "搅拌站",
            "养殖场",
            "污水处理厂",
            "河道",
            "垃圾焚烧",
            "砂石厂",
            "印染厂",
            "油烟",
            "噪声",
            "扬尘",
            "废气",
            "黑臭水体",
            "渣土",
            "危险废物",
            "废水排放",
            "空气质量",
            "工地粉尘",
            "秸秆焚烧",
            "小作坊",
        ],
        "troubles": [
            "偷排污水",
            "气味刺鼻",
            "晚上偷偷排放",
            "河水发黑发臭",
            "粉尘漫天",
            "噪音扰民到深夜",
            "污染严重",
            "鱼都死了",
            "环评没有通过",
            "烟囱冒黑烟",
            "没有任何防护措施",
            "直排进河里",
        ],
    },
    "交通运输": {
        "things": [
            "公交线路",
            "出租车",
            "网约车",
            "驾校",
            "客运站",
            "公路",
            "高速收费站",
            "货车",
            "车辆年检",
            "驾驶证",
            "公交站台",
            "渡口",
            "乡村客运",
            "超载车辆",
            "停车场",
            "交通信号灯",
            "绕城公路",
            "班车",
            "物流车辆",
            "电动车上牌",
        ],
        "troubles": [
            "班次太少",
            "拒载绕路",
            "乱收费",
            "路面坑洼不平",
            "长期超载",
            "发车不准时",
            "线路被取消",
            "考试预约不上",
            "收费标准不透明",
            "道路拥堵",
            "车速过快",
            "无证营运",
        ],
    },
    "教育文体": {
        "things": [
            "学校",
            "幼儿园",
            "教师",
            "学区划分",
            "校车",
            "课外辅导",
            "学籍",
            "教材费",
            "体育馆",
            "图书馆",
            "文化广场",
            "学生食堂",
            "寄宿制学校",
            "中考",
            "职业学校",
            "教师编制",
            "补课",
            "校服",
            "民办学校",
            "特岗教师",
        ],
        "troubles": [
            "违规收费",
            "强制补课",
            "入学难",
            "择校费太高",
            "食堂饭菜不卫生",
            "教师体罚学生",
            "工资待遇低",
            "划片不合理",
            "设施老化",
            "开放时间太短",
            "学位不够",
            "转学手续繁琐",
        ],
    },
    "劳动和社会保障": {
        "things": [
            "工资",
            "社保",
            "养老保险",
            "医疗保险",
            "失业金",
            "劳动合同",
            "工伤认定",
            "退休金",
            "公积金",
            "农民工",
            "加班费",
            "人才补贴",
            "事业单位招聘",
            "职称评定",
            "最低工资",
            "五险一金",
            "离职证明",
            "劳务派遣",
            "退休手续",
            "社保卡",
        ],
        "troubles": [
            "拖欠不发",
            "单位不给缴纳",
            "断缴无法补缴",
            "迟迟不认定",
            "待遇没落实",
            "被无故辞退",
            "不签合同",
            "计算有误",
            "拖了半年",
            "克扣",
            "不予办理",
            "标准偏低",
        ],
    },
    "商贸旅游": {
        "things": [
            "超市",
            "景区门票",
            "旅行社",
            "商场",
            "预付卡",
            "快递公司",
            "网店",
            "农贸市场",
            "加油站",
            "酒店",
            "导游",
            "商家",
            "健身房会员卡",
            "美容店",
            "二手车",
            "手机套餐",
            "外卖平台",
            "商铺租金",
            "团购",
            "促销活动",
        ],
        "troubles": [
            "虚假宣传",
            "强制购物",
            "卖假货",
            "不给退款",
            "缺斤少两",
            "价格欺诈",
            "店铺跑路",
            "售后推诿",
            "宰客",
            "霸王条款",
            "服务态度恶劣",
            "擅自涨价",
        ],
    },
    "卫生计生": {
        "things": [
            "医院",
            "医生",
            "诊所",
            "二胎",
            "生育证",
            "独生子女补贴",
            "疫苗",
            "医保药品",
            "卫生院",
            "药店",
            "计生奖励",
            "孕检",
            "住院费",
            "手术",
            "乡村医生",
            "体检",
            "急诊",
            "护士",
            "出生医学证明",
            "准生证",
        ],
        "troubles": [
            "乱收费",
            "误诊",
            "态度冷漠",
            "补贴没有发放",
            "办理不了",
            "过度检查",
            "医疗事故",
            "推诿病人",
            "药价太贵",
            "无证行医",
            "排队几个小时",
            "手续太复杂",
        ],
    },
}
PLACES = ["A市A1区", "A市A3区", "A市A5区", "B市B2县", "C市", "A市经开区", "K8县", "L市L4区"]
OPENERS = [
    "尊敬的领导：",
    "尊敬的市长您好！",
    "领导您好，",
    "你好，",
    "",
    "",
    "我要反映：",
    "各位领导：",
]
FRAMES = [
    "{place}{x}的{y}问题{trouble}，",
    "我们{place}这边{x}{trouble}，{y}也一样，",
    "关于{x}{trouble}的问题，",
    "{x}{trouble}已经{dur}了，",
    "想咨询一下{x}和{y}的政策，",
    "本人在{place}，{x}一直{trouble}，",
    "{x}{trouble}，{y}也存在类似情况，",
    "听说{place}的{x}{trouble}，我们这里{y}也是，",
]
NOISE = [
    "多次打电话都没有人管，",
    "相关部门互相推诿，",
    "严重影响了我们的正常生活，",
    "希望领导能够重视，",
    "群众意见很大，",
    "我们都是普通老百姓，",
    "恳请有关部门调查处理，",
    "请给我们一个合理的解释，",
    "此事拖了很久，",
    "网上也有很多人反映，",
    "我们家庭条件困难，",
    "现在已经是{dur}了，",
    "望领导百忙之中抽空处理，",
]
CLOSERS = ["谢谢！", "盼复。", "请尽快解决！", "万分感谢！", "", "希望得到回复。"]
DURS = ["三个月", "半年", "一年多", "好几年", "两个星期", "十多天"]


def _hard(n: int, seed: int, split: str) -> Corpus:
    rng = random.Random(seed)
    classes = list(HARD)
    texts, labels = [], []
    for _i in range(n):
        label = classes[rng.choices(range(7), weights=[22, 10, 7, 17, 21, 13, 10])[0]]
        parts = [rng.choice(OPENERS)]
        for _ in range(rng.randint(1, 4)):
            parts.append(_hard_sentence(label, rng, split))
            parts.append(
                rng.choice(NOISE).format(dur=rng.choice(DURS)) if rng.random() < 0.6 else ""
            )
        if rng.random() < 0.2:  # a side remark about another class
            other = rng.choice([c for c in classes if c != label])
            parts.insert(rng.randint(1, len(parts)), _hard_sentence(other, rng, split))
        parts.append(rng.choice(CLOSERS))
        text = "".join(parts)
        if rng.random() < 0.1:
            text = text.replace("，", " ")
        texts.append(text)
        noisy = rng.random() < 0.03
        labels.append(rng.choice(classes) if noisy else label)
    return texts, labels


def _hard_sentence(label: str, rng: random.Random, split: str) -> str:
    pools = HARD[label]

    def pick(words: list[str]) -> str:
        cut = int(len(words) * 0.65)  # the first 65% are seen in training, the rest only in test
        pool = words[:cut] if split == "train" else (words[cut:] if rng.random() < 0.5 else words)
        return rng.choice(pool)

    return rng.choice(FRAMES).format(
        place=rng.choice(PLACES),
        x=pick(pools["things"]),
        y=pick(pools["things"]),
        trouble=pick(pools["troubles"]),
        dur=rng.choice(DURS),
    )


def hard_7(n_train: int, n_test: int) -> tuple[Corpus, Corpus]:
    return _hard(n_train, 11, "train"), _hard(n_test, 12, "test")


CORPORA: dict[str, Callable[[int, int], tuple[Corpus, Corpus]]] = {
    "demo-sub": demo_sub,
    "demo-top": demo_top,
    "hard-7": hard_7,
}


# --- output ------------------------------------------------------------------------------------


def _machine() -> dict:
    import scipy
    import sklearn

    return benchkit.machine(
        numpy=np.__version__, scipy=scipy.__version__, **{"scikit-learn": sklearn.__version__}
    )


def _print_table(result: dict) -> None:
    header = (
        f"{'corpus':<9} {'model':<9} {'acc':>7} {'macroF1':>8} {'fit s':>7} "
        f"{'1-msg ms p50':>12} {'p99':>7} {'batch/s':>8} {'ECE':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, corpus in result["corpora"].items():
        for model, r in corpus["models"].items():
            ece = f"{r['ece']:.3f}" if "ece" in r else "-"
            print(
                f"{name:<9} {model:<9} {r['accuracy']:7.4f} {r['macro_f1']:8.4f} "
                f"{r['fit_seconds']:7.1f} {r['latency_ms_median']:12.3f} "
                f"{r['latency_ms_p99']:7.3f} {r['batch_texts_per_second']:8d} {ece:>6}"
            )
    if "scale" in result:
        s = result["scale"]
        print(
            f"training time: {s['rows']} rows x {s['classes']} classes "
            f"(~{s['mean_chars']:.0f} chars each): {s['fit_seconds']} s"
        )
    m = result["machine"]
    print(f"machine: {m['cpu']} ({m['cores']} cores, load {m['load_average']})")


if __name__ == "__main__":
    main()
