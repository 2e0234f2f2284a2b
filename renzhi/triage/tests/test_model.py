"""The text classifier's public contract: no database, small synthetic corpora."""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import pytest

from renzhi.triage import model as model_module
from renzhi.triage.features import NgramTfidf, char_ngrams, normalize
from renzhi.triage.model import ModelFormatError, TextClassifier

# Each class: its own topic words; sentences mix them with shared filler, addresses, numbers.
TOPICS = {
    "供水": ["停水", "水压低", "自来水发黄", "水管爆裂", "没有水", "供水", "水龙头", "水表"],
    "噪音": ["噪音", "装修打钻", "广场舞", "施工声音", "吵得睡不着", "鸣笛", "音响", "扰民"],
    "物业": ["物业", "电梯坏了", "楼道灯", "物业费", "门禁", "保安", "电梯停运", "楼道杂物"],
    "劳动": ["拖欠工资", "工资", "老板", "社保", "劳动合同", "加班费", "辞退", "欠薪"],
    "交通": ["公交", "红绿灯", "违章停车", "共享单车", "斑马线", "堵车", "出租车", "信号灯"],
}
FILLER = [
    "{est}小区{bld}号楼",
    "我家住在{est}{bld}栋{unit}单元",
    "昨天晚上",
    "已经好几天了",
    "希望尽快解决",
    "麻烦有关部门处理一下",
    "电话13812345678",
    "邻居们意见很大",
    "谢谢",
    "",
]
ESTATES = ["花园小区", "阳光家园", "幸福里", "望京西园", "湖畔名苑", "金色家园"]


def make_corpus(n: int, seed: int, words_slice: slice) -> tuple[list[str], list[str]]:
    """`n` texts; `words_slice` picks which topic words may appear (train vs held-out phrasing)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = list(TOPICS)[i % len(TOPICS)]
        words = TOPICS[label][words_slice]
        parts = [rng.choice(FILLER) for _ in range(rng.randint(1, 3))]
        parts += rng.sample(words, k=min(len(words), rng.randint(1, 2)))
        rng.shuffle(parts)
        text = "，".join(p for p in parts if p).format(
            est=rng.choice(ESTATES), bld=rng.randint(1, 30), unit=rng.randint(1, 6)
        )
        texts.append(text + rng.choice(["。", "！", "", "？？"]))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    return make_corpus(400, seed=1, words_slice=slice(0, 8))


@pytest.fixture(scope="module")
def fitted(corpus: tuple[list[str], list[str]]) -> TextClassifier:
    texts, labels = corpus
    return TextClassifier().fit(texts, labels)


# --- API contract --------------------------------------------------------------------------------


def test_predict_proba_has_one_row_per_text_summing_to_one(fitted: TextClassifier) -> None:
    texts = ["小区停水了", "楼上装修噪音太大", "老板拖欠工资三个月", "", "hello"]
    classes, probs = fitted.predict_proba(texts)
    assert classes == sorted(TOPICS)
    assert probs.shape == (5, 5)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert fitted.predict(texts) == [classes[i] for i in probs.argmax(axis=1)]


def test_classes_order_is_the_same_for_every_call(fitted: TextClassifier) -> None:
    first, _ = fitted.predict_proba(["停水"])
    second, _ = fitted.predict_proba(["电梯坏了", "红绿灯坏了"])
    assert first == second == fitted.classes == fitted.metadata["classes"]


def test_one_text_fast_path_equals_the_batch_path(fitted: TextClassifier) -> None:
    texts = ["望京西园3号楼停水两天了，自来水发黄", "广场舞音响太吵", "公交车间隔太长"]
    _, batch = fitted.predict_proba(texts)
    for i, text in enumerate(texts):
        _, one = fitted.predict_proba([text])
        np.testing.assert_allclose(one[0], batch[i], atol=1e-12)


def test_a_bare_string_is_one_text(fitted: TextClassifier) -> None:
    assert fitted.predict("小区停水了") == fitted.predict(["小区停水了"])


def test_top_k_lists_the_best_labels_with_their_probabilities(fitted: TextClassifier) -> None:
    (top,) = fitted.top_k(["小区停水，自来水发黄"], k=3)
    assert len(top) == 3
    assert top[0][0] == "供水"
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True)
    _, proba = fitted.predict_proba(["小区停水，自来水发黄"])
    assert top[0][1] == pytest.approx(proba.max())
    assert len(fitted.top_k(["x"], k=99)[0]) == 5


def test_metadata_says_when_and_on_what_it_was_trained(fitted: TextClassifier) -> None:
    meta = fitted.metadata
    assert meta["n_rows"] == 400
    assert meta["format_version"] == model_module.FORMAT_VERSION
    assert meta["trained_at"].endswith("+00:00")
    assert sum(meta["class_counts"].values()) == 400
    assert 0.0 <= meta["cv"]["macro_f1"] <= 1.0
    assert "scikit-learn" in meta["libraries"]
    meta["classes"].append("tampered")  # a copy: the model is not changed through it
    assert "tampered" not in fitted.metadata["classes"]


def test_out_of_fold_probabilities_are_kept_for_threshold_choice(
    fitted: TextClassifier,
) -> None:
    assert fitted.cv_proba_ is not None
    assert fitted.cv_proba_.shape == (400, 5)
    np.testing.assert_allclose(fitted.cv_proba_.sum(axis=1), 1.0)


# --- learning --------------------------------------------------------------------------------


def test_it_learns_topics_and_generalises_to_held_out_texts() -> None:
    train_texts, train_labels = make_corpus(500, seed=2, words_slice=slice(0, 8))
    test_texts, test_labels = make_corpus(300, seed=3, words_slice=slice(0, 8))
    clf = TextClassifier().fit(train_texts, train_labels)
    predicted = clf.predict(test_texts)
    accuracy = np.mean([p == t for p, t in zip(predicted, test_labels, strict=True)])
    assert accuracy >= 0.95
    # Probabilities are calibrated: mean confidence close to the accuracy reached.
    _, probs = clf.predict_proba(test_texts)
    assert abs(probs.max(axis=1).mean() - accuracy) < 0.1


def test_it_recognises_typos_and_unseen_combinations() -> None:
    texts, labels = make_corpus(500, seed=4, words_slice=slice(0, 8))
    clf = TextClassifier().fit(texts, labels)
    assert clf.predict(["幸福里12号楼停了水了，水龙头一滴水都没右"]) == ["供水"]
    assert clf.predict(["公司老板欠我三个月工姿不给"]) == ["劳动"]
    assert clf.predict(["ＡＢＣ小区电梯坏了，１２３号"]) == ["物业"]


def test_two_classes_and_a_class_seen_once_still_train() -> None:
    texts, labels = make_corpus(60, seed=5, words_slice=slice(0, 8))
    pairs = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab in ("供水", "噪音")]
    binary = TextClassifier().fit([t for t, _ in pairs], [lab for _, lab in pairs])
    classes, probs = binary.predict_proba(["停水了", "广场舞太吵"])
    assert classes == sorted(["噪音", "供水"]) and probs.shape == (2, 2)
    assert binary.predict(["停水了", "广场舞太吵"]) == ["供水", "噪音"]
    rare = TextClassifier().fit([*texts, "孩子上学划片不合理"], [*labels, "教育"])
    assert "教育" in rare.classes
    assert rare.predict_proba(["上学"])[1].shape == (1, 6)


def test_fitting_is_deterministic_on_one_thread(corpus: tuple[list[str], list[str]]) -> None:
    # liblinear's random generator is process-wide, so folds fitted on parallel threads agree
    # only up to the solver's tolerance; on one thread the result is exactly repeatable.
    texts, labels = corpus
    a = TextClassifier(n_jobs=1).fit(texts[:200], labels[:200])
    b = TextClassifier(n_jobs=1).fit(texts[:200], labels[:200])
    assert a.predict(texts[200:]) == b.predict(texts[200:])
    np.testing.assert_allclose(
        a.predict_proba(texts[200:])[1], b.predict_proba(texts[200:])[1], atol=1e-9
    )
    c = TextClassifier().fit(texts[:200], labels[:200])
    np.testing.assert_allclose(
        a.predict_proba(texts[200:])[1], c.predict_proba(texts[200:])[1], atol=0.02
    )


# --- odd input -------------------------------------------------------------------------------


def test_empty_long_and_foreign_texts_predict_without_error(fitted: TextClassifier) -> None:
    odd = [
        "",
        "   ",
        "停水" * 50_000,
        "x" * 100_000,
        "The elevator in building 3 is broken again!!",
        "エレベーターが故障しました",
        "😀😀😀 ？？？ …… 123456",
        "\x00\ufeff\u200b",
    ]
    classes, probs = fitted.predict_proba(odd)
    assert probs.shape == (len(odd), len(classes))
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    for text in odd:
        assert fitted.predict([text])[0] in classes
    assert fitted.predict(["停水" * 50_000]) == ["供水"]


def test_predicting_nothing_gives_nothing(fitted: TextClassifier) -> None:
    assert fitted.predict([]) == []
    assert fitted.predict_proba([])[1].shape == (0, 5)


def test_it_refuses_to_train_on_one_class() -> None:
    with pytest.raises(ValueError, match="at least two different labels"):
        TextClassifier().fit(["停水了", "又停水了"], ["供水", "供水"])


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        ([], [], "empty"),
        (["a", "b"], ["x"], "2 texts but 1 labels"),
        (["a", "b"], ["x", ""], "non-empty label"),
        ("停水", "供水", "lists"),
        (["", " "], ["x", "y"], "no characters"),
    ],
)
def test_it_refuses_bad_training_data(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TextClassifier().fit(texts, labels)


def test_an_unfitted_model_says_so() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        TextClassifier().predict(["停水"])


# --- save and load ---------------------------------------------------------------------------


def test_save_and_load_give_identical_predictions_and_probabilities(
    fitted: TextClassifier, tmp_path
) -> None:
    path = tmp_path / "category.model"
    fitted.save(path)
    loaded = TextClassifier.load(path)
    texts = make_corpus(50, seed=9, words_slice=slice(0, 8))[0] + ["", "停水" * 1000, "a\x00b"]
    assert loaded.predict(texts) == fitted.predict(texts)
    classes, probs = loaded.predict_proba(texts)
    assert classes == fitted.classes
    np.testing.assert_array_equal(probs, fitted.predict_proba(texts)[1])
    np.testing.assert_array_equal(
        loaded.predict_proba([texts[0]])[1], fitted.predict_proba([texts[0]])[1]
    )
    assert loaded.metadata == fitted.metadata
    assert [p.name for p in tmp_path.iterdir()] == ["category.model"]  # no temp file left


def test_it_refuses_a_file_that_is_not_a_model(tmp_path) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(b"PK\x03\x04 some zip or pickle")
    with pytest.raises(ModelFormatError, match="not a Renzhi text classifier"):
        TextClassifier.load(path)
    path.write_bytes(b"")
    with pytest.raises(ModelFormatError):
        TextClassifier.load(path)


def test_it_refuses_a_model_of_another_format_version(fitted: TextClassifier, tmp_path) -> None:
    path = tmp_path / "old.model"
    fitted.save(path)
    blob = path.read_bytes()
    start = len(model_module.MAGIC)
    (length,) = struct.unpack(">Q", blob[start : start + 8])
    header = json.loads(blob[start + 8 : start + 8 + length])
    header["format_version"] = 999
    new_header = json.dumps(header).encode()
    path.write_bytes(
        model_module.MAGIC
        + struct.pack(">Q", len(new_header))
        + new_header
        + blob[start + 8 + length :]
    )
    with pytest.raises(ModelFormatError, match="format version 999"):
        TextClassifier.load(path)


def test_it_refuses_a_damaged_model(fitted: TextClassifier, tmp_path) -> None:
    path = tmp_path / "damaged.model"
    fitted.save(path)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFormatError, match="damaged"):
        TextClassifier.load(path)
    path.write_bytes(model_module.MAGIC + struct.pack(">Q", 10**12))
    with pytest.raises(ModelFormatError, match="damaged"):
        TextClassifier.load(path)
    assert issubclass(ModelFormatError, ValueError)


# --- features --------------------------------------------------------------------------------


def test_normalisation_folds_width_numbers_phones_and_punctuation() -> None:
    assert normalize("ＡＢＣ１２３号楼，，，停水！！") == "abc0号楼 停水"
    assert normalize("电话13812345678或010-62345678") == "电话☎或☎"
    assert normalize("见 https://example.com/x?a=1 谢谢") == "见 ü 谢谢"
    assert normalize(None) == ""  # type: ignore[arg-type]
    assert normalize("停\x00水\u200b了\ufeff") == "停 水 了"
    assert len(normalize("字" * 100_000)) == model_module.MAX_CHARS


def test_tfidf_matches_sklearn(corpus: tuple[list[str], list[str]]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [normalize(t) for t in corpus[0]]
    ours = NgramTfidf((1, 3), min_df=2, max_features=None)
    mine = ours.fit_transform(texts)
    reference = TfidfVectorizer(
        analyzer=lambda t: char_ngrams(t, (1, 3)), min_df=2, sublinear_tf=True
    ).fit(texts)
    assert ours.terms == sorted(reference.vocabulary_, key=reference.vocabulary_.__getitem__)
    np.testing.assert_allclose(mine.toarray(), reference.transform(texts).toarray(), atol=1e-12)
    idx, weights = ours.transform_one(texts[0])
    np.testing.assert_allclose(mine[0].toarray()[0, idx], weights, atol=1e-12)
