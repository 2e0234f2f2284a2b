"""Chinese texts of demo appeals: descriptions per subcategory, and the staff's notes.

A triage classifier is trained on these descriptions (issue 6), so variety matters more than
polish: many templates per subcategory, random slots (buildings, roads, shops, times, sums), the
framing of each channel (a resident typing on the phone, a hotline operator's summary, a grid
worker's patrol report, a partner system's work order), colloquial openings and endings, and the
occasional typo residents really make (拉圾, 反应, 以经 …).

Templates are `str.format` strings. A template starting with "!" describes an emergency: the
appeal is filed as urgent. Slots are drawn once per text (the same `{bld}` twice is the same
building); `Context` carries what is fixed for an appeal (community, estates, roads, a resident's
home) so a resident's appeals always name the same home. Nothing here touches the database.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

# --- places named in texts ---------------------------------------------------------------------

# Estates (小区) of each demo community, by community code (see `renzhi.demo.city`).
ESTATES: dict[str, list[str]] = {
    "110105001001": ["花家地北里", "花北西里", "望花苑"],
    "110105001002": ["南湖东园", "南湖东园二区", "湖畔家园"],
    "110105001003": ["望花路西里", "西里新村", "花园公寓"],
    "110105001004": ["宝星园", "宝星华庭", "星源国际"],
    "110105002001": ["将台西路小区", "将府家园", "将台花园"],
    "110105002002": ["驼房营南里", "驼房营西里", "晨光家园"],
    "110105002003": ["万红西街小区", "万红苑", "红星宿舍"],
    "110105002004": ["大山子北里", "电子城宿舍", "七九八家属院"],
    "110105003001": ["湖光北街小区", "湖光中街宿舍", "观湖国际"],
    "110105003002": ["望湖公寓", "望湖花园", "湖景苑"],
    "110105003003": ["东湖湾", "东湖湾名苑", "东湖渠小区"],
    "110105003004": ["利泽西园", "利泽西园二区", "嘉林花园"],
}
ROADS: dict[str, list[str]] = {
    "110105001": ["望京西路", "阜通东大街", "花家地街", "南湖中园路", "广顺北大街", "宝星路"],
    "110105002": ["将台路", "酒仙桥路", "驼房营路", "万红路", "大山子西街", "芳园南街"],
    "110105003": ["东湖渠路", "湖光中街", "望湖路", "东湖西路", "利泽西街", "来广营东路"],
}
SHOPS = [
    "老王烧烤",
    "川味小馆",
    "张记麻辣烫",
    "鑫鑫便利店",
    "好邻居超市",
    "阿强水果店",
    "金牌快餐",
    "兰州拉面",
    "东北饺子馆",
    "老北京炸酱面",
    "湘味轩",
    "24小时烤串",
    "小龙虾大排档",
    "家乐福便利",
    "美佳美发",
    "一品足疗",
    "聚福火锅",
    "李姐早点铺",
]
COMPANIES = [
    "宏达装饰工程有限公司",
    "鑫源建筑劳务有限公司",
    "华强物流有限公司",
    "盛世餐饮管理有限公司",
    "远航科技有限公司",
    "金鼎家政服务有限公司",
    "博远教育咨询有限公司",
    "顺通快递网点",
    "恒泰保安服务有限公司",
    "新天地商贸有限公司",
]
SCHOOLS = [
    "望京实验小学",
    "花家地小学",
    "将台路小学",
    "东湖中心小学",
    "演示区第二幼儿园",
    "酒仙桥中学",
    "湖光幼儿园",
    "利泽中学",
]
TRAINING = ["学而优教育", "优才英语", "小天才编程", "乐动体育", "博远教育", "星光艺术培训"]
HOSPITALS = ["区第二医院", "望京医院", "区妇幼保健院", "社区卫生服务中心", "区中医医院"]
GYMS = ["乐享健身", "动力健身房", "瑜伽生活馆", "游泳健身会所", "美佳美发", "洁丽洗衣"]

_CN_NUM = ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十"]


@dataclass
class Context:
    """What is fixed for one appeal: where it is and, for a resident, their home."""

    community_code: str
    community_name: str
    street_code: str
    estate: str | None = None
    bld: int | None = None
    unit: int | None = None
    room: str | None = None
    bld_pool: list[int] = field(default_factory=list)  # an outbreak's buildings


def home_of(phone: str, community_code: str) -> tuple[str, int, int, str]:
    """A resident's home address (estate, building, entrance, flat), stable for their phone."""
    rng = random.Random(f"home:{phone}")
    estate = rng.choice(ESTATES.get(community_code) or ["本小区"])
    floor = rng.randint(1, 24)
    return estate, rng.randint(1, 32), rng.randint(1, 6), f"{floor}{rng.randint(1, 4):02d}"


# --- slots ------------------------------------------------------------------------------------


def _estate(rng: random.Random, ctx: Context) -> str:
    return ctx.estate or rng.choice(ESTATES.get(ctx.community_code) or ["本小区"])


def _bld(rng: random.Random, ctx: Context) -> str:
    if ctx.bld_pool:
        return str(rng.choice(ctx.bld_pool))
    return str(ctx.bld or rng.randint(1, 32))


def _road(rng: random.Random, ctx: Context) -> str:
    return rng.choice(ROADS.get(ctx.street_code) or ["主路"])


def _road2(rng: random.Random, ctx: Context) -> str:
    """A second road for crossings; a different one when the street has several."""
    return rng.choice(ROADS.get(ctx.street_code) or ["辅路"])


def _other_road(rng: random.Random, s: _Slots) -> str:
    first = s["road"]
    for _ in range(5):
        road = _road2(rng, s.ctx)
        if road != first:
            return road
    return "辅路"


def _loc(rng: random.Random, s: _Slots) -> str:
    return rng.choice(
        [
            "{estate}{bld}号楼",
            "{estate}{bld}号楼{unit}单元",
            "我们小区{bld}号楼",
            "{estate}小区",
            "{bld}号楼",
            "{estate}{bld}号楼楼下",
            "{community}{estate}",
            "{estate}{bld}号楼{unit}门",
            "{estate}{bld}栋{unit}单元",
            "{estate}{bld}#楼",
            "{estate}{bld}-{unit}-{room}",
            "{road}{roadno}号院{bld}号楼",
            "{estate}{bld}幢",
            "{community}{estate}{bld}号楼{unit}单元{room}室",
            "{road}边上的{estate}",
        ]
    ).format_map(s)


def _home(rng: random.Random, s: _Slots) -> str:
    return rng.choice(
        [
            "我家",
            "我们家",
            "家里",
            "我家（{bld}号楼{unit}单元{room}）",
            "我住的{bld}号楼",
            "我们这栋楼",
            "我家{bld}-{unit}-{room}",
            "我们{estate}{bld}栋",
            "我租的房子",
        ]
    ).format_map(s)


def _near(rng: random.Random, s: _Slots) -> str:
    return rng.choice(
        [
            "{road}和{road2}交叉口",
            "{estate}{gate}",
            "{road}{roadno}号门口",
            "{community}附近",
            "{road}公交站旁边",
            "{estate}{gate}外面的{road}上",
            "{road}{roadno}号",
        ]
    ).format_map(s)


SLOTS: dict[str, Callable[[random.Random, _Slots], str]] = {
    "estate": lambda rng, s: _estate(rng, s.ctx),
    "community": lambda rng, s: s.ctx.community_name,
    "bld": lambda rng, s: _bld(rng, s.ctx),
    "unit": lambda rng, s: str(s.ctx.unit or rng.randint(1, 6)),
    "room": lambda rng, s: s.ctx.room or f"{rng.randint(1, 24)}{rng.randint(1, 4):02d}",
    "floor": lambda rng, s: str(rng.randint(2, 26)),
    "road": lambda rng, s: _road(rng, s.ctx),
    "road2": lambda rng, s: _other_road(rng, s),
    "roadno": lambda rng, s: str(rng.randint(1, 188)),
    "gate": lambda rng, s: rng.choice(["东门", "西门", "南门", "北门", "正门", "2号门", "西北门"]),
    "loc": _loc,
    "home": _home,
    "near": _near,
    "when": lambda rng, s: rng.choice(
        [
            "昨天晚上",
            "今天早上",
            "前天下午",
            "上周末",
            "这两天",
            "今天凌晨",
            "昨天中午",
            "今天上午",
            "大前天",
            "上个星期",
            "今天一早",
            "昨天夜里",
        ]
    ),
    "clock": lambda rng, s: rng.choice(
        [
            "早上六点",
            "早上七点多",
            "晚上十点多",
            "凌晨两点",
            "中午十二点左右",
            "下午三点",
            "晚上八点",
            "夜里十一点半",
            "凌晨四五点",
            "早上五点半",
        ]
    ),
    "dur": lambda rng, s: rng.choice(
        ["两天", "三天", "一个多星期", "半个月", "快一个月", "好几天", "四五天", "一周多"]
    ),
    "hours": lambda rng, s: rng.choice(
        ["两个多小时", "大半天", "一上午", "三个小时", "一整天", "五六个小时"]
    ),
    "again": lambda rng, s: rng.choice(
        [
            "之前已经反映过好几次了，",
            "之前打过电话，说来人一直没来，",
            "找过物业，物业说不归他们管，",
            "",
            "",
            "",
            "上个月也出现过一次，",
            "问了邻居，大家都一样，",
        ]
    ),
    "mood": lambda rng, s: rng.choice(
        [
            "实在受不了了。",
            "家里老人孩子都很着急。",
            "太影响生活了。",
            "大家意见都很大。",
            "真的很无奈。",
            "",
            "",
            "邻居们都很有意见。",
            "这样下去不是办法。",
        ]
    ),
    "ask": lambda rng, s: rng.choice(
        [
            "希望尽快解决。",
            "请相关部门尽快处理！",
            "麻烦赶紧派人来看看。",
            "请给个说法。",
            "希望有关部门重视一下。",
            "谢谢！",
            "盼复。",
            "请尽快处理，谢谢。",
            "",
            "望早日解决！！",
            "请帮忙协调解决。",
        ]
    ),
    "temp": lambda rng, s: rng.choice(["十四", "十五", "十六", "13", "14", "15", "16", "十二"]),
    "plate": lambda rng, s: (
        "京"
        + rng.choice("ABCEFGHJKLMNPQ")
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
    ),
    "shop": lambda rng, s: rng.choice(SHOPS),
    "company": lambda rng, s: rng.choice(COMPANIES),
    "school": lambda rng, s: rng.choice(SCHOOLS),
    "training": lambda rng, s: rng.choice(TRAINING),
    "hospital": lambda rng, s: rng.choice(HOSPITALS),
    "gym": lambda rng, s: rng.choice(GYMS),
    "money": lambda rng, s: rng.choice(
        [
            f"{rng.randint(2, 19) * 500}元",
            f"{rng.randint(3, 30)}000多元",
            "一万二",
            "八千多",
            f"{rng.randint(1, 9)}万多",
        ]
    ),
    "months": lambda rng, s: rng.choice(["两个月", "三个月", "半年", "四个多月", "一年多"]),
    "bus": lambda rng, s: f"{rng.choice([rng.randint(1, 999), rng.randint(400, 999)])}路",
    "age": lambda rng, s: str(rng.randint(70, 94)),
    "n": lambda rng, s: _CN_NUM[rng.randint(2, 9)],
    "num": lambda rng, s: str(rng.randint(2, 12)),
    "price": lambda rng, s: str(rng.choice([5, 8, 10, 15, 20, 30, 50])),
}


class _Slots(dict[str, str]):
    """Draws each slot the first time a template asks for it."""

    rng: random.Random
    ctx: Context

    def __init__(self, rng: random.Random, ctx: Context):
        super().__init__()
        self.rng, self.ctx = rng, ctx

    def __missing__(self, key: str) -> str:
        value = SLOTS[key](self.rng, self)
        self[key] = value
        return value


def fill(template: str, rng: random.Random, ctx: Context) -> str:
    return template.format_map(_Slots(rng, ctx))


# --- descriptions per subcategory --------------------------------------------------------------
# fmt: off
RESIDENT: dict[str, list[str]] = {
    "0101": [
        "{loc}从{when}开始停水了，到现在也没来水，也没看到任何停水通知，{mood}{ask}",
        "{home}停水{hours}了，做饭洗漱都没法弄，物业说是市政的问题，到底什么时候能恢复供水？",
        "{loc}自来水水压特别低，高层基本没水，{floor}楼以上的住户都接不出水来，{again}{ask}",
        "{home}的自来水发黄，有明显的铁锈味，不敢喝也不敢做饭，{ask}",
        "!{near}地下水管爆裂了，水一直往外冒，路面都淹了，赶紧派人来关阀门！",
        "!{loc}楼前的供水管道漏水，水流很大，已经漫到单元门口了，请马上处理",
        "又停水了！{loc}这个月第{n}次停水了，每次都不提前通知，{mood}",
        "请问{estate}今天为什么停水？没有接到任何通知，家里有老人行动不便，{ask}",
        "{loc}水龙头放出来的水浑浊，有白色沉淀，烧开以后有水垢，担心水质有问题，请检测一下",
        "停水{dur}，楼里住户只能去外面买桶装水，{again}{ask}",
        "{estate}二次供水水箱好久没清洗了，水里有异味，{ask}",
        "{when}开始{loc}突然没水了，打供水热线一直占线，请帮忙问一下什么时候来水",
    ],
    "0102": [
        "{loc}{when}突然停电，到现在还没来电，冰箱里的东西都要坏了，{ask}",
        "{home}这几天老是跳闸，一开空调就跳，物业说是楼里线路老化，{ask}",
        "{loc}电压不稳，灯一闪一闪的，电器都不敢开，{again}{ask}",
        "!{near}的电线杆上电线掉下来了，还在冒火花，很危险，请马上派人处理！",
        "!{loc}配电箱冒烟有焦糊味，已经断电了，请供电公司赶紧来人",
        "{estate}{when}停电{hours}，也没有停电通知，家里有病人要用制氧机，{mood}",
        "{loc}楼道里的电线老化严重，外皮都破了，存在安全隐患，{ask}",
        "夏天用电高峰{loc}经常停电，热得睡不着觉，希望供电部门改造一下线路",
        "{loc}计划停电的通知只在单元门贴了一张纸，很多人没看到，建议以后提前短信通知",
    ],
    "0103": [
        "{home}暖气不热，室温只有{temp}度，家里有老人和小孩，{again}{ask}",
        "{loc}暖气一直不热，摸着是温的，交了取暖费却享受不到供暖，{mood}{ask}",
        "!{loc}暖气管道爆了，热水哗哗往外流，楼下都淹了，请马上派人来！",
        "{loc}整栋楼暖气都不热，屋里要穿羽绒服，{again}{ask}",
        "{home}暖气片上热下凉，放过气了还是不行，请供热单位上门检查一下",
        "从{when}开始{loc}就停暖了，也没说什么原因，屋里冷得不行，{ask}",
        "{home}暖气漏水，把地板都泡了，找物业说要等供热公司来，{ask}",
        "{estate}供暖温度达不到标准，室温{temp}度左右，晚上冻得睡不着，请相关部门督促供热单位",
        "暖气不热！！{loc}已经{dur}了，打了好几次电话都没人管",
        "请问{estate}今年什么时候开始供暖？最近降温了家里很冷",
        "{loc}暖气阀门坏了关不上，屋里热得不行又没法调节，{ask}",
    ],
    "0104": [
        "{loc}{when}开始停气了，做不了饭，也没有通知，{ask}",
        "{home}燃气表显示还有气但是灶台打不着火，{ask}",
        "{estate}天然气管道改造，挖开{dur}了还没完工，一直停气，{mood}{ask}",
        "{home}的燃气表坏了，读数不走，想申请换表，联系不上燃气公司",
        "{loc}燃气压力不足，火特别小，烧壶水要半小时，{ask}",
        "燃气卡充值后插表没反应，{home}已经{dur}没法开火了，请燃气公司帮忙处理",
        "{estate}燃气入户安检的人说要收费换管子，不知道是不是正规的，想核实一下",
    ],
    "0105": [
        "{near}路面破损严重，坑坑洼洼的，下雨就积水，骑车很容易摔倒，{ask}",
        "!{near}井盖缺失，一个大洞敞着，晚上看不见很危险，赶紧补上！",
        "{near}的井盖松动了，车一压就哐当响，晚上特别吵，{again}{ask}",
        "!{near}路面塌陷了一个坑，已经有车掉进去了，请马上设置警示并维修",
        "{near}人行道地砖松动翘起来好多块，老人走路容易绊倒，{ask}",
        "{road}辅路修了{dur}了一直没修完，围挡占了半条路，{mood}",
        "{near}下水道堵了，污水漫到路面上，味道很大，{ask}",
        "{near}有个井盖下沉，比路面低好几公分，{ask}",
        "{road}人行道上的盲道被破坏了，好几处断开，{ask}",
    ],
    "0106": [
        "{near}的路灯不亮{dur}了，晚上一片漆黑，走路很不安全，{ask}",
        "{road}一排路灯都坏了，晚上下班回家黑灯瞎火的，{again}{ask}",
        "{near}路灯白天一直亮着，晚上反而不亮，浪费电，{ask}",
        "{estate}{gate}外面的路灯灯杆歪了，感觉随时要倒，{ask}",
        "{loc}附近路灯忽明忽暗的，晚上遛弯的老人多，请尽快修一下",
        "!{near}路灯杆底部的电线裸露在外面，下雨天很危险，有小孩在旁边玩",
        "{road}路段没有路灯，晚上特别黑，建议加装照明设施",
    ],
    "0201": [
        "{loc}楼下的垃圾桶已经满了{dur}没人清运，味道很大，{ask}",
        "{estate}{gate}的垃圾站垃圾堆成山了，苍蝇乱飞，臭气熏天，{mood}{ask}",
        "{near}有人乱倒建筑垃圾，堆了一大片，{again}{ask}",
        "{loc}垃圾清运不及时，天热了异味特别大，窗户都不敢开，{ask}",
        "{estate}装修垃圾堆在楼道口{dur}了，没人管，{ask}",
        "垃圾车每天{clock}来收垃圾，噪音特别大，能不能调整一下时间",
        "{near}的大件垃圾（旧沙发、床垫）扔了好久没人拉走，{ask}",
        "{loc}拉圾桶满了都溢出来了，流浪猫狗翻得到处都是，{ask}",
    ],
    "0202": [
        "{estate}垃圾分类桶站只有一个其他垃圾桶，厨余垃圾没地方扔，{ask}",
        "{loc}垃圾分类形同虚设，分好的垃圾清运时又混装到一起了，{mood}",
        "{estate}的分类桶站撤了，现在要走很远去扔垃圾，{ask}",
        "{near}厨余垃圾桶破了一直没换，汤水流得到处都是",
        "垃圾分类指导员只在早上有人，晚上下班回来桶站都锁上了，{ask}",
        "{estate}垃圾桶站离{bld}号楼太近了，夏天味道很重，能不能挪一挪",
    ],
    "0203": [
        "{near}的工地夜间施工，每天干到{clock}，噪音特别大，根本没法睡觉，{again}{ask}",
        "{estate}{gate}广场舞音响声音太大，每天晚上都跳到十点，{mood}{ask}",
        "楼上住户每天{clock}还在装修打钻，{home}有婴儿，{ask}",
        "{near}的{shop}晚上营业到凌晨，客人喝酒吵闹声很大，{ask}",
        "{loc}楼下有人半夜遛狗，狗一直叫，吵得睡不着，{ask}",
        "{road}上大货车晚上鸣笛，声音特别刺耳，{again}{ask}",
        "{near}有个商户天天用大喇叭循环播放促销广告，{mood}",
        "{loc}新装的空调外机噪音大，离卧室窗户很近，晚上嗡嗡响",
        "{near}的燥音太大了，工地早上六点就开工，周末也不停，{ask}",
        "{estate}楼下KTV噪音扰民，每天晚上唱到一两点，{ask}",
    ],
    "0204": [
        "{near}的{shop}油烟直排，熏得{home}窗户都不敢开，{ask}",
        "{loc}楼下新开的烧烤店没有油烟净化设备，晚上烟雾弥漫，{again}{ask}",
        "{near}有人露天烧烤，烟很大，呛得人喘不过气，{ask}",
        "{estate}底商餐馆排烟管道直接对着居民楼，{mood}{ask}",
        "{near}有人焚烧垃圾和树叶，烟味很重，{ask}",
        "{loc}对面饭馆的油烟机坏了好久没修，整个楼道都是油烟味",
    ],
    "0205": [
        "{loc}蚊子特别多，晚上被咬得睡不着，小区好久没有消杀了，{ask}",
        "{estate}绿化带里有老鼠窝，晚上老鼠到处跑，还钻进地下室，{ask}",
        "{loc}垃圾站附近苍蝇成群，{mood}请安排消杀",
        "{home}附近的积水坑滋生了大量蚊虫，孩子被咬了好多包，{ask}",
        "{estate}地下室蟑螂泛滥，已经爬到住户家里了，{again}{ask}",
        "{near}的{shop}后厨老鼠乱窜，担心卫生问题",
        "今年蚊子比往年多很多，{estate}能不能多做几次灭蚊消杀？",
        "{loc}楼道里发现死老鼠，味道很大，{ask}",
    ],
    "0206": [
        "{near}的公厕脏乱差，地上全是污水，味道大，无人保洁，{ask}",
        "{near}公共厕所冲水坏了{dur}，没法使用，{ask}",
        "{road}附近的公厕晚上八点就锁门了，很不方便，建议延长开放时间",
        "{near}公厕里没有卫生纸也没有洗手液，灯也坏了，{ask}",
        "{near}的公厕没有无障碍设施，坐轮椅的老人没法用",
    ],
    "0301": [
        "{bus}公交车间隔太长了，早高峰等了四十分钟，{ask}",
        "{near}的公交站牌被撤了，现在不知道去哪坐车，{ask}",
        "建议增开一条从{estate}到地铁站的公交线路，现在出行很不方便",
        "{bus}公交司机开车太猛，急刹车好几次，老人差点摔倒，{ask}",
        "{near}公交站没有候车亭，下雨天没地方躲，建议加装",
        "{bus}末班车提前了，晚上九点多就没车了，下班晚的人怎么办？",
        "{near}公交站台被共享单车和摊贩占满了，上下车不方便",
    ],
    "0302": [
        "{estate}{gate}有车辆长期乱停，把消防通道堵死了，{again}{ask}",
        "{near}一辆车牌{plate}的车停在路口好几天了，影响通行，{ask}",
        "{road}两侧违章停车严重，早晚高峰堵得走不动，{ask}",
        "!{loc}前的消防通道被私家车占了，刚才救护车都进不来，请马上处理！",
        "{near}的人行道上停满了车，行人只能走机动车道，很危险",
        "有人在{estate}{gate}用地锁占车位，还放了石墩子，{ask}",
        "{near}有辆僵尸车停了{months}，落满灰，轮胎都瘪了，{ask}",
        "{road}上有车辆逆行乱停，{plate}这辆车天天停在公交站，{ask}",
    ],
    "0303": [
        "{road}和{road2}路口的红绿灯坏了，车和行人乱成一团，{ask}",
        "{near}的人行横道信号灯时间太短，老人走到一半就变红灯了，{ask}",
        "{near}的交通标志牌被树挡住了，根本看不见，{ask}",
        "{near}斑马线已经磨得看不清了，建议重新施划",
        "{road}学校门口没有减速带，车速特别快，很危险，{ask}",
        "{road}和{road2}路口信号灯配时不合理，左转绿灯只有几秒",
    ],
    "0304": [
        "{near}共享单车堆得满地都是，人行道都走不了，{ask}",
        "{estate}{gate}共享单车乱停放，把出入口都堵了，{again}{ask}",
        "{near}有一大堆坏了的共享单车没人管，{ask}",
        "{road}地铁站口共享单车占道严重，早高峰根本过不去",
        "{near}共享单车倒了一片挡住了盲道，{ask}",
    ],
    "0305": [
        "在{near}打车，出租车司机拒载，说距离太近不去，{ask}",
        "网约车司机绕路多收了我{price}块钱，投诉平台不给处理，{ask}",
        "{near}有很多黑车揽客，拉客的人很凶，{ask}",
        "出租车司机不打表，一口价要{num}0块，车牌号记不清了，上车地点在{near}",
        "{near}出租车扎堆趴活，占了一条车道，{ask}",
    ],
    "0401": [
        "孩子今年该上小学了，{estate}划片到哪个学校？问了好几个地方都说不清楚",
        "{estate}的孩子被划到{school}，离家太远了，能不能调整学区划片？",
        "孩子户口在{community}，但是没拿到入学通知，{ask}",
        "{school}学位不够，今年很多适龄儿童上不了，希望教委给个说法",
        "幼儿园报名系统一直登不上，眼看报名要截止了，{ask}",
        "想咨询一下非京籍孩子在{community}上幼儿园需要准备什么材料",
        "附近的普惠性幼儿园太少了，{estate}周边只有一家私立的，学费太贵",
    ],
    "0402": [
        "在{training}报了课，交了{money}，现在机构关门了联系不上，{ask}",
        "{training}违规在周末给中小学生上学科课，{ask}",
        "孩子在{training}的课还剩{num}节，机构拒绝退费，{ask}",
        "{near}有个居民楼里开了补课班，没有任何资质，{ask}",
        "{training}虚假宣传，说保证提分，上了{months}一点效果都没有，要求退费",
    ],
    "0403": [
        "{estate}的健身器材坏了好多，有的都生锈断了，很危险，{ask}",
        "{community}活动室平时都锁着，居民想用都用不上",
        "{near}的篮球场晚上没有灯，建议加装照明",
        "{estate}的儿童滑梯破损了，有尖角，小孩容易受伤，{ask}",
        "社区图书室开放时间太短了，上班族根本赶不上",
        "{near}的乒乓球台被人占着放杂物，{ask}",
    ],
    "0404": [
        "{school}门口上下学时间车辆乱停，孩子过马路很危险，{ask}",
        "{school}附近有流动摊贩卖三无零食，希望管一管",
        "{school}校门口接送的电动车太多，堵得水泄不通，建议安排人疏导",
        "{school}周边有社会闲散人员逗留，家长很担心，{ask}",
        "放学时{school}门口没有交警和协管员，车速很快，{ask}",
    ],
    "0501": [
        "我在{company}上班，公司拖欠工资{months}了，一共{money}，老板一直推脱，{ask}",
        "在{near}的工地干活，包工头拖欠农民工工资，{num}个工友的钱都没给，{ask}",
        "{company}以经营困难为由拖欠工资，已经{months}没发了，{mood}",
        "离职{months}了，{company}还欠我{money}工资不给结，{ask}",
        "快过年了，工地老板还欠我们工钱{money}没给，家里等着用钱，求帮忙讨薪",
        "{company}拖欠工资，还不给签劳动合同，想问问怎么维权",
    ],
    "0502": [
        "{company}没有给我交社保，入职{months}了，问就说试用期不交，{ask}",
        "单位给我断缴了社保，影响买房资格，{ask}",
        "想咨询一下灵活就业人员怎么在{community}补缴社保",
        "{company}按最低基数给我交社保，和工资不符，{ask}",
        "社保转移手续办了{months}还没办完，来回跑了好几次",
    ],
    "0503": [
        "在外地住院的医保报销材料交上去{months}了还没有结果，{ask}",
        "医保卡丢了，补办要去哪里？网上办理一直失败",
        "异地就医备案办不下来，老人在外地看病没法直接结算",
        "{hospital}开的药不在医保报销范围，想咨询一下政策",
        "门诊特殊病报销手续太复杂了，老人跑了好几趟",
    ],
    "0504": [
        "失业了想办失业登记，{community}社区说要去街道办，街道又说社区办，到底在哪里办？",
        "想报名参加政府的免费职业培训，去哪里报名？",
        "{company}招聘时承诺的待遇和入职后不一样，算不算虚假招聘？",
        "想咨询一下{community}有没有公益性岗位，家里困难需要工作",
        "招聘会信息在哪里能查到？{community}附近有没有针对大龄人员的岗位",
    ],
    "0505": [
        "退休{months}了，养老金还没有发下来，{ask}",
        "养老金待遇认证一直提示失败，老人不会用手机，{ask}",
        "我父亲{age}岁了，养老金一直没有按规定调整，想咨询一下",
        "企业退休人员养老金计算有疑问，想申请核对缴费年限",
        "老人{age}岁行动不便，养老金资格认证能不能上门办理？",
    ],
    "0601": [
        "在{near}的{shop}买的东西有质量问题，要求退换被拒绝，{ask}",
        "{shop}卖假冒名牌商品，被我发现了还不承认，{ask}",
        "网上买的电器用了{num}天就坏了，商家不给修，{ask}",
        "在{shop}买的食品是三无产品，没有生产日期，{ask}",
        "{gym}卖的护肤品用了过敏，商家拒绝退款",
    ],
    "0602": [
        "{near}的{shop}不明码标价，结账的时候乱要价，{ask}",
        "{estate}物业代收的水电费比标准高，怀疑乱收费，{ask}",
        "{near}停车场收费不合理，{price}块钱一小时，也没有收费公示",
        "{shop}价格标签和结账价格不一致，多收了钱",
        "{hospital}附近的停车收费太离谱了，{ask}",
    ],
    "0603": [
        "在{gym}办了会员卡，充了{money}，现在店关门老板跑路了，{ask}",
        "{gym}突然停业，预付卡里还有{money}没消费，要求退费",
        "{training}的预付费课程退费难，{ask}",
        "{near}的{gym}换了老板，说以前的卡不认了，{mood}",
        "{gym}推销办卡时承诺随时可退，现在不给退了，{ask}",
    ],
    "0604": [
        "在{near}的{shop}吃完饭后上吐下泻，怀疑食品不卫生，{ask}",
        "{shop}卖过期食品，生产日期都过了{num}个月，{ask}",
        "{near}的{shop}后厨卫生很差，员工不戴口罩，{ask}",
        "在{shop}买的肉有异味，怀疑变质了",
        "{school}附近的小吃摊没有健康证，食品安全没保障",
        "外卖吃出了异物，商家在{near}，{ask}",
    ],
    "0605": [
        "{near}早市摊贩占道经营，把路都堵了，收摊后垃圾满地，{ask}",
        "{estate}{gate}流动商贩扎堆摆摊，{again}{ask}",
        "{road}人行道上全是摆摊卖菜的，行人只能走马路，{ask}",
        "{near}的{shop}把桌椅摆到人行道上经营，{ask}",
        "晚上{near}夜市占道，烧烤摊冒烟，噪音也大，{mood}",
        "{near}有人在路边卖水果，三轮车把盲道占了",
    ],
    "0701": [
        "在{hospital}看病排队{hours}，挂号难看病难，{ask}",
        "{hospital}医生服务态度很差，问两句就不耐烦，{ask}",
        "{hospital}的自助挂号机经常坏，老人不会用手机挂号",
        "在{hospital}做检查被多收费了，{ask}",
        "{hospital}急诊等了{hours}没人管，{mood}",
    ],
    "0702": [
        "想给孩子打流感疫苗，{community}卫生服务站一直约不上，{ask}",
        "老人想接种疫苗，去哪里预约？网上预约系统太难用了",
        "孩子的疫苗接种本丢了，去哪里补办？",
        "{community}卫生站疫苗接种时间太短，上班族没法带孩子去",
        "{hospital}说疫苗缺货，什么时候能到？",
    ],
    "0703": [
        "{community}卫生服务站常用药经常缺货，开药要跑大医院，{ask}",
        "签约了家庭医生，但是从来没联系过，{ask}",
        "{community}社区医院周末不开门，老人看病不方便",
        "社区卫生站开慢病药一次只能开一周，能不能延长？",
        "{community}卫生服务站的医生太少了，排队很久",
    ],
    "0704": [
        "想办理生育登记，网上填了好几次都没通过，{ask}",
        "{near}附近的商场没有母婴室，给孩子喂奶很不方便",
        "产检建档太难了，{hospital}号都约满了",
        "育儿补贴怎么申请？在{community}问了说不清楚",
        "{hospital}的母婴室很脏，也没人打扫",
    ],
    "0801": [
        "{loc}电梯又坏了，{home}住{floor}楼，老人只能爬楼梯，{again}{ask}",
        "!{loc}电梯困人了！有人被困在里面，打物业电话没人接，快来人！",
        "{loc}电梯运行时异响，还会突然下坠一下，很吓人，{ask}",
        "{loc}电梯停运{dur}了，物业说在等配件，{mood}{ask}",
        "!{loc}电梯门开着就往上走，差点夹到人，请马上停梯检修",
        "{loc}电梯年检过期了还在运行，{ask}",
        "{loc}的电提按钮坏了好几个，按了没反应，{ask}",
        "老旧小区加装电梯的事情推进不下去，{estate}居民想问问政策",
        "{loc}两部电梯只开一部，上下班高峰排长队，{ask}",
    ],
    "0802": [
        "{loc}楼道里堆满了杂物，保洁也不打扫，{again}{ask}",
        "{estate}的绿化带杂草丛生，好久没人修剪了，{ask}",
        "{loc}楼道好几天没人打扫，地上全是垃圾，{ask}",
        "{estate}的树枝太长了，挡住了{home}的窗户，也碰到电线了，请修剪一下",
        "{loc}门口的树死了好久没人处理，{ask}",
        "{estate}杨柳絮太多了，满天飞，能不能给树打点药？",
        "{loc}地下车库积水发臭，{ask}",
        "{estate}绿地被人开垦种菜了，还浇粪水，味道很大",
        "小区物业保洁只扫主路，楼道里一个月都不拖一次，{mood}",
        "{estate}草坪好久没浇水都枯了，夏天光秃秃的",
        "{loc}楼顶平台有人堆放杂物，还有人在上面养鸽子，{ask}",
    ],
    "0803": [
        "{estate}外来车辆随便进出，业主反而没地方停车，{ask}",
        "{estate}停车费从{price}块涨到了{num}0块，也没开业主大会，{ask}",
        "{estate}车位只租不售，租金年年涨，{mood}",
        "{loc}地下车库照明坏了，黑乎乎的，{ask}",
        "{estate}有人长期占用别人的车位，物业不管，{ask}",
        "{estate}道闸坏了{dur}，物业还照样收停车费",
    ],
    "0804": [
        "{estate}物业费收了服务却越来越差，保安形同虚设，{ask}",
        "物业强制要求交了物业费才能办{home}的门禁卡，{ask}",
        "{estate}公共收益（广告费、停车费）从来没有公示过，{ask}",
        "{estate}物业费上涨没有经过业主大会同意，{mood}",
        "{estate}物业不作为，报修了{dur}都没人来，{ask}",
        "物业拒绝出具物业费发票，{ask}",
    ],
    "0805": [
        "{home}屋顶漏水，下雨天屋里到处接水，{again}{ask}",
        "楼上{room}漏水渗到{home}天花板，都发霉了，楼上不配合维修，{ask}",
        "{loc}外墙渗水，{home}墙皮都泡掉了，{ask}",
        "{loc}楼道的下水管道漏水，污水顺着墙往下流，{ask}",
        "!{home}楼上水管爆了，水从天花板上往下流，楼上没人，请马上来人！",
        "{loc}顶层防水坏了，{dur}没人修，{mood}",
        "{home}卫生间的管道渗水，物业说是公共管道但是不管",
    ],
    "0806": [
        "{loc}一楼住户私自扩建院子，占用了公共绿地，{ask}",
        "{estate}有人在楼顶私搭乱建，盖了个小房子，{again}{ask}",
        "{loc}有住户封闭阳台超出外墙，存在安全隐患，{ask}",
        "{estate}{gate}有人违建彩钢房，开小卖部，{ask}",
        "{loc}楼下有人私自圈占公共空地放杂物，还搭了棚子",
        "{near}的{shop}私自扩建，把门前人行道占了",
    ],
    "0901": [
        "{estate}最近接连发生电动车被盗，{ask}",
        "{loc}最近有可疑人员在楼道里转悠，挨家挨户看门牌，很担心，{ask}",
        "{near}经常有人深夜喝酒打架，{mood}{ask}",
        "{estate}门禁坏了{dur}，外来人员随便进出，治安很差",
        "{near}有人发小广告，还在墙上乱涂电话号码",
        "{home}门口的快递经常被偷，{ask}",
        "{near}有人摆摊算命骗老人钱，{ask}",
    ],
    "0902": [
        "{loc}楼道里堆满了纸箱和旧家具，一旦着火后果不堪设想，{ask}",
        "{estate}消防栓里没有水带，有的玻璃都碎了，{ask}",
        "{loc}的安全出口被锁死了，{again}{ask}",
        "{estate}消防通道被杂物和车辆占用，消防车根本进不来，{ask}",
        "{near}的{shop}在店里住人，还用明火做饭，有火灾隐患",
        "{loc}楼道里的应急灯和灭火器都坏了，没人管",
        "!{loc}楼道里有东西着火冒烟了，已经打了119，请物业马上来人疏散！",
    ],
    "0903": [
        "!{loc}楼道里有很大的煤气味，怀疑燃气泄漏，请马上派人来检查！",
        "!{home}闻到燃气味，报警器一直在响，已经关了阀门开窗了，请燃气公司赶紧来人",
        "!{near}燃气管道被施工挖破了，气味很大，赶紧处理！",
        "{loc}的燃气管道锈蚀严重，担心漏气，{ask}",
        "!{estate}好几栋楼都闻到煤气味了，{loc}最明显，{mood}请尽快排查",
        "{near}的{shop}违规使用液化气罐，还放在门口，{ask}",
        "{loc}有住户私改燃气管道，存在安全隐患，{ask}",
        "{home}燃气报警器老是误报，想请燃气公司上门检测一下",
    ],
    "0904": [
        "{loc}有住户从楼上拉电线下来给电动车充电，飞线充电很危险，{again}{ask}",
        "{loc}楼道里停满了电动车，还在楼道里充电，{ask}",
        "{estate}电动车充电桩太少，大家只能飞线充电，建议多装几个",
        "{estate}的充电桩坏了{dur}没人修，{ask}",
        "有人把电动车电池拿回{loc}家里充电，邻居很担心，{ask}",
        "{loc}电梯里经常有人推电动车上楼，{ask}",
    ],
    "0905": [
        "{loc}有人高空抛物，扔下来一袋垃圾差点砸到人，{again}{ask}",
        "!{loc}外墙瓷砖脱落了，掉下来砸坏了车，下面还有人走，请马上设置警戒！",
        "{loc}有住户空调外机支架锈得厉害，感觉要掉下来了，{ask}",
        "{loc}楼上住户阳台花盆放在外面，大风天很危险，{ask}",
        "!{loc}楼顶的广告牌被风吹松了，随时可能掉下来，请赶紧处理！",
        "{loc}经常有人从楼上往下扔烟头，楼下的车都被烫坏了",
    ],
    "1001": [
        "我家老人{age}岁独居在{estate}，想申请养老助餐服务，去哪里办？",
        "{community}养老驿站的饭菜太贵了，{ask}",
        "{estate}附近没有老年活动场所，老人平时没地方去",
        "想给{age}岁的父亲申请居家养老服务，需要什么手续？",
        "{community}养老驿站经常不开门，电话也没人接",
        "老人{age}岁了，高龄津贴一直没有发放，{ask}",
        "{estate}有位独居老人好几天没出门了，邻居很担心，请社区去看看",
    ],
    "1002": [
        "家里困难想申请低保，材料交到{community}{months}了没有消息，{ask}",
        "我家低保被取消了，也没有通知原因，{ask}",
        "家里有人得了重病，医疗费花了{money}，能不能申请临时救助？",
        "{estate}有个困难家庭，家里老人瘫痪在床，希望社区帮助一下",
        "想问问低保的申请条件，去{community}问了说要等通知",
    ],
    "1003": [
        "{estate}{gate}没有无障碍坡道，坐轮椅进不去，{ask}",
        "残疾证到期了想换证，需要去哪里办？",
        "残疾人两项补贴一直没有发，{ask}",
        "{near}的盲道被占用，视障人士出行很危险",
        "家里有残疾人，想申请康复服务和辅具，{community}说不清楚流程",
    ],
    "1004": [
        "婚姻登记处的网上预约一直约不上，{ask}",
        "想办结婚登记，外地户口需要准备什么材料？",
        "补办结婚证要去哪里？需要带什么？",
        "婚姻登记处的工作人员态度不好，材料一次没说清楚，让跑了好几趟",
    ],
    "1005": [
        "想在{community}开一个居住证明，社区说要等主任签字，等了{dur}",
        "{community}居委会办事时间太短，上班族根本来不及",
        "建议{community}多组织一些社区活动，丰富居民生活",
        "{estate}的居民议事会什么时候开？想反映一下小区的问题",
        "{community}的公告栏信息好久没更新了",
        "{community}居委会电话一直打不通，{ask}",
    ],
}

# What a grid worker writes on patrol: only problems one can see in the street.
PATROL: dict[str, list[str]] = {
    "0105": ["巡查发现{near}路面破损，有明显坑洼，已拍照。",
             "巡查发现{near}井盖缺失，已临时放置警示锥桶。",
             "{near}人行道地砖松动多处，存在绊倒隐患。"],
    "0106": ["巡查发现{near}路灯不亮，共{num}盏。", "{road}路灯灯杆倾斜，存在倒伏隐患。"],
    "0201": ["巡查发现{loc}垃圾桶满溢，周边散落垃圾。", "{near}有建筑垃圾堆放，约{num}立方。"],
    "0202": ["巡查发现{estate}桶站垃圾混投混装。", "{estate}厨余垃圾桶破损，需更换。"],
    "0204": ["巡查发现{near}有露天烧烤，烟雾较大。", "{near}餐馆油烟直排，无净化设施。"],
    "0206": ["巡查发现{near}公厕卫生较差，无人保洁。"],
    "0302": ["巡查发现{estate}{gate}消防通道被车辆占用，车牌{plate}。",
             "{road}两侧车辆乱停，影响通行。"],
    "0304": ["巡查发现{near}共享单车堆放，占用人行道。"],
    "0605": ["巡查发现{near}有流动摊贩占道经营，约{num}处。", "{near}店外经营，桌椅占用人行道。"],
    "0802": ["巡查发现{loc}楼道杂物堆放。", "{estate}绿化带杂草较多，需修剪。"],
    "0806": ["巡查发现{loc}疑似新建违建，正在施工。", "{estate}楼顶有私搭乱建。"],
    "0902": ["巡查发现{loc}楼道堆放大量纸箱杂物，存在消防隐患。",
             "{estate}消防栓箱破损，水带缺失。"],
    "0904": ["巡查发现{loc}有飞线充电，已劝导。", "{loc}楼道内停放电动车{num}辆，存在隐患。"],
    "0905": ["巡查发现{loc}外墙瓷砖有脱落迹象，已设置警示。"],
}
# fmt: on

OPENINGS = [
    "",
    "",
    "",
    "",
    "您好，",
    "你好，",
    "我想反映一下，",
    "我是{community}的居民，",
    "反映个问题：",
    "我要投诉，",
    "你好，我是{estate}的业主，",
    "麻烦问一下，",
]
EXTRA_SENTENCES = [
    "",
    "",
    "",
    "",
    "",
    "之前已经打过电话了，一直没人管。",
    "我们是老旧小区，这种情况经常发生。",
    "已经拍了照片。",
    "家里有孕妇，很着急。",
    "物业电话打了好多次没人接。",
    "请回电联系我。",
    "不希望透露我的个人信息。",
    "周围邻居也都遇到了同样的问题。",
    "这个问题存在很久了。",
]
HOTLINE_PREFIXES = [
    "市民来电反映：",
    "来电人反映，",
    "来电反映：",
    "市民来电：",
    "来电人称：",
    "【12345转办】市民来电反映：",
]
HOTLINE_SUFFIXES = [
    "",
    "",
    "来电人要求尽快处理。",
    "请核实处理。",
    "来电人要求回复处理结果。",
    "请尽快处理并回复。",
]
API_PREFIXES = ["【12345热线转办】", "【接诉即办】工单内容：", "【市民热线】", "【政务服务平台】"]
IMPORT_PREFIXES = ["", "市民反映：", "诉求内容：", "工单：", "来电反映："]
TYPOS = [
    ("垃圾", "拉圾"),
    ("反映", "反应"),
    ("已经", "以经"),
    ("安装", "按装"),
    ("再次", "在次"),
    ("噪音", "燥音"),
    ("电梯", "电提"),
    ("暖气", "暖器"),
    ("厉害", "利害"),
    ("物业", "务业"),
    ("赶紧", "赶近"),
    ("麻烦", "麻凡"),
    ("严重", "严众"),
    ("那么", "哪么"),
    ("必须", "必需"),
    ("账", "帐"),
    ("的", "得"),
    ("在", "再"),
    ("做饭", "作饭"),
    ("好像", "好象"),
    ("希望", "希忘"),
    ("解决", "解绝"),
    ("部门", "部们"),
    ("已经", "己经"),
    ("投诉", "投述"),
    ("问题", "问提"),
    ("维修", "维休"),
    ("联系", "连系"),
    ("影响", "影想"),
    ("通知", "通之"),
    ("楼道", "楼到"),
    ("工资", "工姿"),
    ("休息", "休习"),
    ("没有", "没右"),
    ("处理", "处里"),
    ("小区", "小曲"),
    ("师傅", "师父"),
    ("一直", "一只"),
    ("邻居", "邻局"),
]
# Colloquial and regional ways of saying the same thing; `_vary` swaps some of them.
SYNONYMS: list[tuple[str, list[str]]] = [
    ("特别", ["非常", "超级", "贼", "老", "十分", "特"]),
    ("很大", ["挺大", "老大了", "非常大", "太大了", "贼大"]),
    ("尽快", ["赶快", "早点", "抓紧", "快点", "尽早"]),
    ("希望", ["盼望", "恳请", "麻烦", "还望", "强烈要求"]),
    ("一直", ["老是", "总是", "始终", "一直都"]),
    ("没人管", ["没人理", "没有人管", "也没人过问", "压根没人管"]),
    ("楼下", ["楼底下", "楼下面", "单元门口"]),
    ("晚上", ["夜里", "晚上", "半夜"]),
    ("请问", ["想问一下", "咨询一下", "问一下", "打听一下"]),
    ("孩子", ["小孩", "娃", "孩子们"]),
    ("老人", ["老年人", "老人家", "老爷子老太太"]),
    ("现在", ["目前", "到现在", "眼下"]),
    ("很多", ["好多", "不少", "一大堆"]),
    ("不方便", ["不便", "麻烦得很", "太不方便了"]),
    ("怎么办", ["咋办", "该怎么弄", "如何处理"]),
    ("什么时候", ["啥时候", "何时", "多久"]),
    ("没法", ["没办法", "根本没法", "不能"]),
    ("好几天", ["好些天", "几天了", "多日"]),
    ("物业", ["物业", "物业公司", "物业那边", "wy"]),
    ("居委会", ["居委会", "社区居委会", "居委"]),
    ("反映", ["反映", "投诉", "举报", "说一下"]),
    ("影响", ["影响", "耽误", "干扰"]),
]
# Subcategories residents often mention together (one is the complaint, the other a side remark).
NEIGHBOURS: dict[str, list[str]] = {
    "0101": ["0805", "0104", "0801"],
    "0102": ["0904", "0106", "0801"],
    "0103": ["0805", "0101", "0804"],
    "0104": ["0903", "0101"],
    "0105": ["0106", "0302", "0201"],
    "0106": ["0105", "0901"],
    "0201": ["0802", "0205", "0202"],
    "0202": ["0201", "0802"],
    "0203": ["0806", "0204", "0605"],
    "0204": ["0605", "0203", "0604"],
    "0205": ["0201", "0802"],
    "0206": ["0201", "0205"],
    "0301": ["0303", "0304"],
    "0302": ["0803", "0902", "0304"],
    "0303": ["0404", "0302"],
    "0304": ["0302", "0301"],
    "0305": ["0602"],
    "0401": ["0402", "0404"],
    "0402": ["0603", "0401"],
    "0403": ["1005", "0802"],
    "0404": ["0303", "0901"],
    "0501": ["0502", "0504"],
    "0502": ["0503", "0505"],
    "0503": ["0701", "0502"],
    "0504": ["0501", "1002"],
    "0505": ["0502", "1001"],
    "0601": ["0602", "0604"],
    "0602": ["0601", "0804"],
    "0603": ["0402", "0602"],
    "0604": ["0601", "0204"],
    "0605": ["0204", "0203", "0304"],
    "0701": ["0703", "0503"],
    "0702": ["0703", "0704"],
    "0703": ["0701", "0702"],
    "0704": ["0702", "0401"],
    "0801": ["0804", "0102"],
    "0802": ["0201", "0205", "0806"],
    "0803": ["0302", "0804"],
    "0804": ["0801", "0802", "0602"],
    "0805": ["0103", "0101"],
    "0806": ["0802", "0902"],
    "0901": ["0106", "0803"],
    "0902": ["0904", "0302", "0802"],
    "0903": ["0104"],
    "0904": ["0902", "0102"],
    "0905": ["0806", "0802"],
    "1001": ["1002", "0505", "0703"],
    "1002": ["1001", "1003"],
    "1003": ["1002", "1001"],
    "1004": ["1005"],
    "1005": ["1001", "0403"],
}
# Slots that meet awkwardly ("将台西路小区" + "小区", "{loc}楼下" + "楼下").
DOUBLED = [("小区小区", "小区"), ("楼下楼下", "楼下"), ("底下楼下", "底下"), ("楼下面楼下", "楼下")]
SIDE_JOINERS = ["另外，", "还有，", "顺便说一下，", "对了，", "除此之外，", "再就是"]
# How a resident sometimes starts: who they are, how long it has gone on.
BACKGROUND = [
    "我在这住了十几年了，",
    "我是退休职工，",
    "我们这栋楼住的大多是老人，",
    "上次反映后来人看了一眼就走了，",
    "我是{estate}的租户，",
    "本人是{community}的老住户，",
    "我已经打了{n}次电话了，",
    "这个事情拖了{dur}了，",
    "说来话长，",
    "我代我家老人反映，",
    "我是外地来京务工人员，",
    "孩子刚出生{n}个月，",
]


def description(
    code: str,
    channel: str,
    rng: random.Random,
    ctx: Context,
    *,
    keyword: str | None = None,
) -> tuple[str, bool]:
    """(text, urgent) of one appeal of subcategory `code` from `channel`.

    `keyword` keeps only templates mentioning it (an outbreak's own story, e.g. 停水).
    """
    if channel == "patrol" and code in PATROL:
        return _tidy(fill(rng.choice(PATROL[code]), rng, ctx), rng, typos=False), False
    templates = RESIDENT[code]
    if keyword:
        templates = [t for t in templates if keyword in t] or templates
    elif code in NEIGHBOURS and rng.random() < 0.05:
        # Filed under `code` although it reads like a neighbour: where the dispatcher's call
        # (or the unit's remit) differs from the words, as in real 12345 data.
        templates = RESIDENT.get(rng.choice(NEIGHBOURS[code])) or templates
    template = rng.choice(templates)
    urgent = template.startswith("!")
    slots = _Slots(rng, ctx)
    body = template.removeprefix("!").format_map(slots)
    roll = rng.random()
    if roll < 0.07 and not keyword:
        body = _vague(body, rng)
    elif roll < 0.17:
        body = _with_other_issue(body, code, rng, slots)
    if rng.random() < 0.18:
        body = rng.choice(BACKGROUND).format_map(slots) + body
    body = _vary(body, rng)
    extra = rng.choice(EXTRA_SENTENCES)
    if extra or channel == "hotline":
        body = _sentence(body)
    if channel == "hotline":
        text = rng.choice(HOTLINE_PREFIXES) + body + extra + rng.choice(HOTLINE_SUFFIXES)
    elif channel == "api":
        text = rng.choice(API_PREFIXES) + body + extra
    elif channel == "import":
        text = rng.choice(IMPORT_PREFIXES) + body
    else:
        text = rng.choice(OPENINGS).format_map(slots) + body + extra
    text = _tidy(text, rng, typos=channel == "web", light_typos=channel != "patrol")
    if len(text) < 10:
        text = rng.choice(["反映个问题：", "我要反映：", "市民反映："]) + text
    return text, urgent


def _vary(text: str, rng: random.Random) -> str:
    """Swap some words for colloquial or regional ones (each at most once per text)."""
    for word, alternatives in SYNONYMS:
        if word in text and rng.random() < 0.45:
            text = text.replace(word, rng.choice(alternatives), 1)
    return text


def _vague(body: str, rng: random.Random) -> str:
    """Only the first clause, as when a resident types in a hurry: hard to classify."""
    clauses = body.split("。")[0].split("，")
    head = clauses[0]
    if len(head) < 8 and len(clauses) > 1:  # "快过年了" alone says nothing at all
        head += "，" + clauses[1]
    return head + rng.choice(["，怎么办", "，谁管", "，请处理", "。", "？", "，急"])


def _with_other_issue(body: str, code: str, rng: random.Random, slots: _Slots) -> str:
    """The main complaint plus a side remark from a neighbouring (or any) subcategory.

    Real appeals often mention two things; the label stays the main one, which is what a
    dispatcher would pick, so the classifier has to weigh them.
    """
    other = rng.choice(NEIGHBOURS.get(code) or list(RESIDENT))
    if other == code or other not in RESIDENT:
        return body
    side = rng.choice(RESIDENT[other]).removeprefix("!").format_map(slots)
    side = side.split("，")[0].split("。")[0]
    if rng.random() < 0.5:
        return _sentence(body) + rng.choice(SIDE_JOINERS) + side + "。"
    # The side remark first, then the real request: "…。主要是…" keeps the main issue clear.
    return side + "，" + rng.choice(["不过主要是", "但最要紧的是", "还有就是", "更严重的是"]) + body


def _sentence(text: str) -> str:
    """`text` ending like a sentence, so another one can follow."""
    return text if not text or text[-1] in "。！？!?" else text.rstrip("，,；; ") + "。"


def _tidy(text: str, rng: random.Random, *, typos: bool, light_typos: bool = False) -> str:
    """Punctuation and typos the way people really type on a phone (or an operator in a hurry)."""
    text = text.replace("。。", "。").replace("，，", "，").replace("，。", "。")
    text = text.replace("！。", "！").replace("？。", "？")
    for doubled, single in DOUBLED:
        text = text.replace(doubled, single)
    chance = 0.3 if typos else 0.08 if light_typos else 0.0
    if rng.random() < chance:
        for wrong in rng.sample(TYPOS, k=rng.choice([1, 1, 2, 3])):
            if wrong[0] in text:
                text = text.replace(wrong[0], wrong[1], 1)
    roll = rng.random()
    if roll < 0.06:
        text = text.replace("，", ",")
    elif roll < 0.10:
        text = text.replace("，", " ")
    elif roll < 0.13:
        text = text.rstrip("。") + "！！！"
    elif roll < 0.17:
        text = text.rstrip("。！")
    return text.strip() or "问题反映"


# --- what staff and units write ---------------------------------------------------------------

RESULTS: dict[str, list[str]] = {
    "water": [
        "经核实，系{road}供水管线抢修导致停水，已于当日恢复供水，并已向诉求人解释。",
        "已派维修人员到场，更换损坏阀门，供水恢复正常，经回访诉求人认可。",
        "经检测水质符合标准，发黄系管道锈蚀所致，已冲洗管网，水质恢复正常。",
        "已对二次供水设施进行清洗消毒，并督促物业定期维护。",
        "经查为户内管线问题，属物业维修范围，已协调物业上门修复。",
    ],
    "power": [
        "经查系线路故障跳闸，已抢修恢复供电。",
        "已更换老化线路和空开，电压恢复正常。",
        "已对该区域变压器增容改造，用电高峰跳闸问题已解决。",
        "属计划检修停电，已于规定时间恢复，今后将提前通过短信通知居民。",
    ],
    "gas": [
        "燃气公司已上门检查，燃气表更换完毕，恢复正常供气。",
        "已到场检测，未发现泄漏，系报警器故障，已更换报警器。",
        "已关闭阀门、排查泄漏点并完成修复，复测无泄漏。",
        "管道改造已完工，已恢复供气。",
        "已上门对违规使用液化气的商户进行检查并责令整改。",
    ],
    "housing": [
        "已督促供热单位上门排查，系管道积气，放气后室温达到{temp}度以上。",
        "供热单位已更换暖气阀门，暖气恢复正常。",
        "已协调供热公司对该楼栋管网进行冲洗，供暖温度已达标。",
        "经测温室温达到18度以上，符合供暖标准，已向诉求人解释。",
        "已完成漏水管道抢修，恢复供暖，并协调物业处理楼下受损情况。",
    ],
    "urban_management": [
        "执法队员已到现场处置，责令施工单位停止夜间施工，并立案调查。",
        "已对占道经营摊贩进行劝离，并加强该区域巡查。",
        "已对违建下达限期拆除通知书，当事人已自行拆除。",
        "已督促商户安装油烟净化设备，复查达标。",
        "已联系养护单位修复路面和井盖，现场已恢复通行。",
        "路灯已维修完毕，恢复正常照明。",
        "已协调相关单位加强管理，问题已解决，已电话告知诉求人。",
    ],
    "sanitation": [
        "已安排清运车辆，垃圾已清运完毕，并增加清运频次。",
        "已更换破损垃圾桶，并对桶站周边进行清洗消毒。",
        "已安排保洁人员对公厕进行清扫，并修复冲水设施。",
        "建筑垃圾已清运，已在现场张贴禁止倾倒提示。",
    ],
    "police": [
        "民警已到现场处置，已对相关人员批评教育。",
        "已对违停车辆张贴违停告知单并拖移，加强该路段巡逻。",
        "已清理消防通道杂物，并督促物业落实消防安全管理责任。",
        "已加强该区域巡逻防控，并在小区内张贴防盗提示。",
        "已联系车主挪车，消防通道恢复畅通。",
    ],
    "property": [
        "物业已安排电梯维保单位维修，电梯已恢复运行。",
        "物业已清理楼道杂物，并加强日常保洁巡查。",
        "已修复屋顶防水，经回访不再漏水。",
        "物业已维修管道，漏水问题解决，楼上住户已配合处理。",
        "物业已在小区加装充电桩{num}个，并对飞线充电进行劝导拆除。",
        "物业已对绿化带进行修剪和除草。",
        "物业已公示公共收益收支情况，并向业主作出解释。",
        "已协调物业加强门岗管理，外来车辆登记后方可进入。",
    ],
    "community": [
        "社区已上门了解情况，协助办理相关手续。",
        "社区已调整活动室开放时间，并在公告栏公示。",
        "社区工作人员已电话联系诉求人，解答了相关政策。",
        "社区已维修健身器材，并安排专人定期检查。",
    ],
    "health": [
        "已安排专业人员对该区域进行灭蚊灭鼠消杀。",
        "已约谈相关医疗机构，要求改进服务，并向诉求人致歉。",
        "已协调社区卫生服务中心调配药品，恢复供应。",
        "已增加疫苗接种门诊时段，诉求人已预约成功。",
    ],
    "market": [
        "已约谈商户，商户同意退款，诉求人表示认可。",
        "已对商户进行现场检查，责令整改并立案调查。",
        "已对该店铺进行食品安全检查，下架过期食品并依法处罚。",
        "经调解，商家同意退还剩余预付款。",
    ],
    "transport": [
        "已将建议转公交公司研究，并答复诉求人。",
        "已协调共享单车企业清理车辆，并加强调度。",
        "已安排维修信号灯，恢复正常运行。",
        "已对该出租车驾驶员进行调查处理，并退还多收费用。",
    ],
    "education": [
        "已向诉求人解释入学政策和划片范围。",
        "已对该培训机构进行检查，责令停止违规培训并督促退费。",
        "已协调学校与诉求人沟通，问题已解决。",
    ],
    "human_resources": [
        "已约谈用人单位，单位承诺{num}日内支付拖欠工资。",
        "劳动监察已立案调查，督促企业补发工资，诉求人已收到工资。",
        "已为诉求人办理失业登记，并介绍了相关就业岗位。",
        "已协助办理社保补缴手续。",
        "已向诉求人解释养老金计算政策，并协助完成资格认证。",
    ],
    "civil_affairs": [
        "已协助诉求人提交低保申请材料，正在审核中并告知办理时限。",
        "已为老人对接养老驿站助餐服务。",
        "已向诉求人解释婚姻登记预约办法，诉求人已预约成功。",
        "已协调办理残疾人补贴发放。",
    ],
    "other": ["已处理完毕，并已电话告知诉求人。"],
}
PROGRESS = [
    "已安排人员到现场核实情况。",
    "已与诉求人电话沟通，约定上门时间。",
    "正在协调相关单位处理，预计{num}个工作日内完成。",
    "维修所需配件已订购，到货后立即维修。",
    "现场已初步处置，正在进一步排查原因。",
    "已下发整改通知，正在督促落实。",
    "已联系施工方，明天上午进场施工。",
    "已入户查看，需要楼上住户配合，正在联系。",
]
FEEDBACK = {
    "satisfied": [
        "",
        "",
        "",
        "处理很及时，谢谢！",
        "满意，工作人员态度很好。",
        "问题解决了，点赞！",
        "谢谢你们的帮助。",
        "效率很高，满意。",
        "感谢！",
    ],
    "basic": [
        "",
        "",
        "问题基本解决了，就是时间有点长。",
        "还行吧，希望以后能提前通知。",
        "解决了，但是态度一般。",
        "基本满意。",
    ],
    "unsatisfied": [
        "问题根本没解决，只是来看了一眼。",
        "还是老样子，没有任何改变。",
        "电话回复敷衍，不满意。",
        "说是处理了，其实根本没人来。",
        "过了两天又坏了。",
        "不满意，要求重新处理。",
        "",
    ],
}
REJECT_REASONS = [
    "诉求不属于本平台受理范围，已告知诉求人通过司法途径解决。",
    "诉求人反映的问题已进入诉讼程序，不予受理。",
    "诉求内容不清，多次联系诉求人未果。",
    "属于咨询类问题，已当场解答。",
    "重复诉求，已告知诉求人原工单办理进度。",
    "诉求地点不在本辖区，已告知诉求人向属地反映。",
]
WITHDRAW_REASONS = [
    "问题已经自行解决了。",
    "已经修好了，不用处理了。",
    "提交错了。",
    "",
    "已和物业协商好了。",
]
RETURN_REASONS = [
    "经核实不属于我单位职责范围，请重新派单。",
    "该问题属于户内设施，应由物业负责。",
    "地址不在我单位服务范围内。",
    "该问题属于其他部门职责，申请退回。",
]
TRANSFER_REASONS = [
    "经核实应由{unit}办理。",
    "根据职责分工转{unit}办理。",
    "原承办单位反馈不属于其职责，转{unit}。",
]
SUPERVISE_NOTES = [
    "请加快办理，今日内反馈进展。",
    "群众反映强烈，请高度重视，限期办结。",
    "该诉求已超期，请说明原因并尽快办结。",
    "请主要负责同志督办，确保按期办结。",
]
EXTENSION_REASONS = [
    "需要协调多个部门，申请延期。",
    "维修配件需要从厂家订购，申请延期。",
    "需召开业主大会表决，申请延期。",
    "受天气影响无法施工，申请延期。",
]
EXTENSION_REFUSALS = ["延期理由不充分，请按期办结。", "请先提供现场处置情况再申请。"]
SUSPEND_REASONS = [
    "需等待气温回升后施工，暂时挂起。",
    "诉求涉及司法鉴定，等待鉴定结果。",
    "诉求人外出，暂时无法入户查看。",
]
RESUME_NOTES = ["条件已具备，恢复办理。", "", "已联系上诉求人，恢复办理。"]
CLOSE_NOTES = [
    "三次回访均未接通，按已办结处理。",
    "诉求人未评价，回访期满办结。",
    "电话回访无人接听，予以办结。",
]
COMMENTS = [
    "已联系物业经理，答复今天下午上门。",
    "诉求人情绪激动，请承办单位注意沟通方式。",
    "同一问题近期多次反映，建议从根本上解决。",
    "已电话提醒承办单位及时签收。",
]
SIGN_NOTES = ["", "", "", "已签收，马上安排人员处理。", "收到，立即处理。"]
DISPATCH_NOTES = ["", "", "请按时签收办理。", "请尽快核实处理。", "属地问题，请及时处理。"]


def pick(options: list[str], rng: random.Random, ctx: Context | None = None, **extra: str) -> str:
    """One of `options` with its slots filled."""
    template = rng.choice(options)
    if "{" not in template:
        return template
    slots = _Slots(rng, ctx or Context("", "", ""))
    slots.update(extra)
    return template.format_map(slots)
