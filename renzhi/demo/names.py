"""Chinese personal names and mobile numbers for demo accounts, drawn from a seeded generator.

Surnames are weighted roughly by their frequency in China so a list of residents reads like a
real roster (many 王, 李, 张; few 欧阳). Given names mix one- and two-character forms.
"""

from __future__ import annotations

import random

# (surname, relative weight): the common ones, then a tail of rarer ones.
# fmt: off
SURNAMES: list[tuple[str, int]] = [
    ("王", 72), ("李", 71), ("张", 69), ("刘", 54), ("陈", 45), ("杨", 33), ("黄", 24),
    ("赵", 21), ("吴", 20), ("周", 19), ("徐", 14), ("孙", 13), ("马", 12), ("朱", 11),
    ("胡", 10), ("郭", 10), ("何", 9), ("林", 9), ("高", 9), ("罗", 8), ("郑", 8), ("梁", 7),
    ("谢", 6), ("宋", 6), ("唐", 6), ("许", 5), ("韩", 5), ("冯", 5), ("邓", 5), ("曹", 5),
    ("彭", 4), ("曾", 4), ("肖", 4), ("田", 4), ("董", 4), ("袁", 4), ("潘", 3), ("于", 3),
    ("蒋", 3), ("蔡", 3), ("余", 3), ("杜", 3), ("叶", 3), ("程", 3), ("苏", 3), ("魏", 3),
    ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 2), ("卢", 2), ("姜", 2), ("崔", 2),
    ("钟", 2), ("谭", 2), ("陆", 2), ("汪", 2), ("范", 2), ("金", 2), ("石", 2), ("廖", 2),
    ("贾", 2), ("夏", 2), ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2),
    ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2),
    ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("黎", 1), ("贺", 1), ("顾", 1), ("毛", 1),
    ("郝", 1), ("龚", 1), ("邵", 1), ("万", 1), ("钱", 1), ("严", 1), ("覃", 1), ("武", 1),
    ("欧阳", 1), ("司马", 1), ("上官", 1),
]
# fmt: on

GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力丹鹏宇浩晨欣怡雪梅"
    "婷琳颖佳慧瑶晓东海波斌峰志国庆春秋燕鑫然博涵轩睿思雨诗子梓俊嘉铭昊泽宁安康乐福德"
)

# Mainland mobile prefixes of the three big operators (and their virtual ones).
MOBILE_PREFIXES = [
    str(n)
    for n in [
        *range(130, 140),
        145,
        147,
        150,
        151,
        152,
        153,
        *range(155, 160),
        166,
        171,
        173,
        *range(175, 179),
        *range(180, 190),
        191,
        198,
        199,
    ]
]

_SURNAME_NAMES = [s for s, _ in SURNAMES]
_SURNAME_WEIGHTS = [w for _, w in SURNAMES]


def person_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAME_NAMES, weights=_SURNAME_WEIGHTS)[0]
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(length))


def mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
