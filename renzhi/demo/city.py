"""The demo city as plain data: places with boundaries, units, demo accounts and residents.

Nothing here touches the database (`renzhi.demo.build` loads it), so the same seed always gives
the same city, and tests can inspect the plan without a database.

Geometry: one jittered lattice of vertices covers the district. Each grid is a block of
`SUB x SUB` lattice cells and its ring walks the block's perimeter through the shared lattice
vertices, so neighbouring grids share their edges vertex for vertex: the grids tile the district
with no gap and no overlap. Vertices are rounded to 6 decimals (~0.1 m) before any polygon is
built, so rounding can never make a polygon invalid; communities, streets and the district are
unions of their children, which GEOS computes exactly when the edges coincide.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from shapely import Polygon, unary_union
from shapely.geometry.base import BaseGeometry

from renzhi.core.models import PlaceLevel, Role, UnitKind
from renzhi.demo.names import mobile_number, person_name

DEFAULT_SEED = 20261125
DEMO_PASSWORD = "Renzhi@2026"
RESIDENTS_PER_SCALE = 2000

DISTRICT_CODE = "110105"
DISTRICT_NAME = "朝阳演示区"
# Roughly Wangjing / Jiuxianqiao in Beijing's Chaoyang district (WGS84).
CENTRE_LNG, CENTRE_LAT = 116.47, 39.99

# Lattice of grid cells: 8 columns x 10 rows, each cell ~510 m x 445 m at this latitude.
COLS, ROWS = 8, 10
SUB = 2  # lattice steps along each side of a grid, so a grid ring has 8 vertices
CELL_W, CELL_H = 0.0060, 0.0040  # degrees of longitude / latitude
SIZE_VARIATION = 0.15  # column widths and row heights vary by up to ±15 %
JITTER = 0.2  # of the smallest lattice step: small enough that every cell stays a simple polygon
PRECISION = 6

STREETS = [
    # code suffix, name, (first column, first row) of its 4 x 5 block of grids, block flips
    ("001", "望京演示街道", (0, 0), (False, False)),
    ("002", "酒仙桥演示街道", (4, 0), (True, False)),
    ("003", "东湖演示街道", (2, 5), (False, True)),
]
# How a street's 4 x 5 block of grids splits into its four communities (A..D = 001..004).
COMMUNITY_LAYOUT = ("AABB", "AABB", "ACCB", "DCCC", "DDDD")
COMMUNITY_NAMES = {
    "001": ["花家地北里社区", "南湖东园社区", "望花路西里社区", "宝星园社区"],
    "002": ["将台路社区", "驼房营社区", "万红西街社区", "大山子社区"],
    "003": ["湖光社区", "望湖社区", "东湖湾社区", "利泽西园社区"],
}
GRID_ORDINALS = "一二三四五"
# The lake of 望湖公园 inside this grid is cut out of the service area, so the grid and every
# level above it have a hole (edge cases of point-in-polygon lookup exist in the demo too).
LAKE_GRID = "110105003002003"

PROPERTY_BRANDS = [
    "嘉禾",
    "恒安",
    "锦程",
    "瑞和",
    "康居",
    "祥泰",
    "华信",
    "安泰",
    "兴业",
    "融和",
    "宜居",
    "润泽",
]

# District-wide units: code prefix, name, kind, login.
DISTRICT_UNITS = [
    ("GS", "朝阳演示区自来水服务中心", UnitKind.WATER, "unit_water"),
    ("GD", "朝阳演示供电公司", UnitKind.POWER, "unit_power"),
    ("RQ", "朝阳演示区燃气服务中心", UnitKind.GAS, "unit_gas"),
    ("ZJ", "朝阳演示区住房和城乡建设委员会", UnitKind.HOUSING, "unit_housing"),
    ("SJ", "朝阳演示区市场监督管理局", UnitKind.MARKET, "unit_market"),
    ("WJ", "朝阳演示区卫生健康委员会", UnitKind.HEALTH, "unit_health"),
    ("MZ", "朝阳演示区民政局", UnitKind.CIVIL_AFFAIRS, "unit_civil"),
    ("JT", "朝阳演示区交通委员会", UnitKind.TRANSPORT, "unit_transport"),
    ("JY", "朝阳演示区教育委员会", UnitKind.EDUCATION, "unit_education"),
    ("RS", "朝阳演示区人力资源和社会保障局", UnitKind.HUMAN_RESOURCES, "unit_hr"),
]
# Per-street units: code prefix, name suffix after the street's short name, kind, login stem.
STREET_UNITS = [
    ("CG", "街道城市管理综合执法队", UnitKind.URBAN_MANAGEMENT, "unit_urban"),
    ("HW", "街道环境卫生服务所", UnitKind.SANITATION, "unit_sanitation"),
    ("PCS", "派出所", UnitKind.POLICE, "unit_police"),
]


@dataclass(frozen=True)
class PlaceSpec:
    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry
    population: int


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    place_codes: tuple[str, ...]
    contact_phone: str
    login: str


@dataclass(frozen=True)
class AccountSpec:
    """A named demo login: one role bound to one place or unit."""

    username: str
    display_name: str
    role: str
    place_code: str | None = None
    unit_code: str | None = None
    phone: str | None = None
    home_code: str | None = None
    featured: bool = False  # printed in the short table of demo logins


@dataclass(frozen=True)
class ResidentSpec:
    phone: str
    display_name: str
    grid_code: str
    community_code: str


@dataclass
class City:
    seed: int
    places: list[PlaceSpec]
    units: list[UnitSpec]
    accounts: list[AccountSpec]
    by_code: dict[str, PlaceSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_code = {p.code: p for p in self.places}

    def level(self, level: str) -> list[PlaceSpec]:
        return [p for p in self.places if p.level == level]

    def bounds(self) -> tuple[float, float, float, float]:
        return self.by_code[DISTRICT_CODE].geometry.bounds


def generate_city(seed: int = DEFAULT_SEED) -> City:
    """The places, units and named demo accounts for `seed` (residents come separately)."""
    places = _places(random.Random(f"{seed}:places"))
    units = _units(places, random.Random(f"{seed}:units"))
    accounts = _accounts(places, units, random.Random(f"{seed}:accounts"))
    return City(seed=seed, places=places, units=units, accounts=accounts)


def resident_count(scale: float) -> int:
    return max(0, round(RESIDENTS_PER_SCALE * scale))


def generate_residents(city: City, count: int) -> Iterator[ResidentSpec]:
    """`count` residents spread over the grids in proportion to population.

    Each resident is drawn one after another from one generator, so the first N residents of a
    larger run equal the N residents of a smaller one: scaling up only adds people.
    """
    rng = random.Random(f"{city.seed}:residents")
    taken = {a.phone for a in city.accounts if a.phone}
    grids = city.level(PlaceLevel.GRID)
    weights = [g.population for g in grids]
    for _ in range(count):
        grid = rng.choices(grids, weights=weights)[0]
        name = person_name(rng)
        phone = mobile_number(rng)
        while phone in taken:
            phone = mobile_number(rng)
        taken.add(phone)
        yield ResidentSpec(
            phone=phone,
            display_name=name,
            grid_code=grid.code,
            community_code=grid.parent_code or "",
        )


# --- places -----------------------------------------------------------------------------------


def _places(rng: random.Random) -> list[PlaceSpec]:
    vertices = _lattice(rng)
    streets: list[PlaceSpec] = []
    communities: list[PlaceSpec] = []
    grids: list[PlaceSpec] = []
    for suffix, street_name, origin, flips in STREETS:
        street_code = DISTRICT_CODE + suffix
        street_communities: list[PlaceSpec] = []
        for c_index, cells in enumerate(_community_cells(origin, flips)):
            community_code = f"{street_code}{c_index + 1:03d}"
            community_name = COMMUNITY_NAMES[suffix][c_index]
            shapes = []
            for g_index, (col, row) in enumerate(cells):
                grid_code = f"{community_code}{g_index + 1:03d}"
                shape = _grid_polygon(vertices, col, row)
                if grid_code == LAKE_GRID:
                    shape = shape.difference(_lake(rng, shape))
                shapes.append((grid_code, f"{community_name}第{GRID_ORDINALS[g_index]}网格", shape))
            population = rng.randrange(3000, 12001, 10)
            split = _split(population, [s.area * rng.uniform(0.7, 1.3) for _, _, s in shapes])
            for (grid_code, grid_name, shape), grid_population in zip(shapes, split, strict=True):
                grids.append(
                    PlaceSpec(
                        grid_code,
                        grid_name,
                        PlaceLevel.GRID,
                        community_code,
                        shape,
                        grid_population,
                    )
                )
            street_communities.append(
                PlaceSpec(
                    community_code,
                    community_name,
                    PlaceLevel.COMMUNITY,
                    street_code,
                    _union([s for _, _, s in shapes]),
                    population,
                )
            )
        communities += street_communities
        streets.append(
            PlaceSpec(
                street_code,
                street_name,
                PlaceLevel.STREET,
                DISTRICT_CODE,
                _union([c.geometry for c in street_communities]),
                sum(c.population for c in street_communities),
            )
        )
    district = PlaceSpec(
        DISTRICT_CODE,
        DISTRICT_NAME,
        PlaceLevel.DISTRICT,
        None,
        _union([s.geometry for s in streets]),
        sum(s.population for s in streets),
    )
    return [district, *streets, *communities, *grids]


def _lattice(rng: random.Random) -> list[list[tuple[float, float]]]:
    """Vertex [i][j] of the lattice: i counts lattice steps eastwards, j southwards."""
    widths = [CELL_W * rng.uniform(1 - SIZE_VARIATION, 1 + SIZE_VARIATION) for _ in range(COLS)]
    heights = [CELL_H * rng.uniform(1 - SIZE_VARIATION, 1 + SIZE_VARIATION) for _ in range(ROWS)]
    west = CENTRE_LNG - sum(widths) / 2
    north = CENTRE_LAT + sum(heights) / 2
    xs = _steps(west, widths, +1)
    ys = _steps(north, heights, -1)
    jx = JITTER * CELL_W * (1 - SIZE_VARIATION) / SUB
    jy = JITTER * CELL_H * (1 - SIZE_VARIATION) / SUB
    return [
        [
            (round(x + rng.uniform(-jx, jx), PRECISION), round(y + rng.uniform(-jy, jy), PRECISION))
            for y in ys
        ]
        for x in xs
    ]


def _steps(start: float, sizes: list[float], sign: int) -> list[float]:
    positions = [start]
    for size in sizes:
        base = positions[-1]
        positions += [base + sign * size * k / SUB for k in range(1, SUB + 1)]
    return positions


def _community_cells(
    origin: tuple[int, int], flips: tuple[bool, bool]
) -> list[list[tuple[int, int]]]:
    """Lattice cells (column, row) of each community of a street, in community order."""
    rows = list(COMMUNITY_LAYOUT)
    if flips[1]:
        rows.reverse()
    if flips[0]:
        rows = [row[::-1] for row in rows]
    cells: dict[str, list[tuple[int, int]]] = {}
    for r, row in enumerate(rows):
        for c, letter in enumerate(row):
            cells.setdefault(letter, []).append((origin[0] + c, origin[1] + r))
    # Grids number north to south, then west to east, within their community.
    return [sorted(cells[letter], key=lambda cr: (cr[1], cr[0])) for letter in sorted(cells)]


def _grid_polygon(vertices: list[list[tuple[float, float]]], col: int, row: int) -> Polygon:
    """The ring around one grid's block of lattice cells, through every shared vertex."""
    i0, j0, n = col * SUB, row * SUB, SUB
    ring = (
        [vertices[i0 + k][j0] for k in range(n)]  # north edge, eastwards
        + [vertices[i0 + n][j0 + k] for k in range(n)]  # east edge, southwards
        + [vertices[i0 + n - k][j0 + n] for k in range(n)]  # south edge, westwards
        + [vertices[i0][j0 + n - k] for k in range(n)]  # west edge, northwards
    )
    return Polygon(ring)


def _lake(rng: random.Random, grid: Polygon) -> Polygon:
    """An irregular oval well inside the grid (it must not touch the grid's edge)."""
    centre = grid.centroid
    minx, miny, maxx, maxy = grid.bounds
    rx, ry = (maxx - minx) * 0.22, (maxy - miny) * 0.22
    points = []
    for k in range(16):
        angle = 2 * math.pi * k / 16
        factor = rng.uniform(0.8, 1.05)
        points.append(
            (
                round(centre.x + rx * factor * math.cos(angle), PRECISION),
                round(centre.y + ry * factor * math.sin(angle), PRECISION),
            )
        )
    lake = Polygon(points)
    if not (lake.is_valid and grid.buffer(-1e-4).contains(lake)):
        raise AssertionError("the demo lake does not fit inside its grid; lower JITTER")
    return lake


def _union(shapes: list[BaseGeometry]) -> BaseGeometry:
    merged = unary_union(shapes)
    if merged.geom_type != "Polygon" or not merged.is_valid:
        raise AssertionError(f"demo children do not merge into one valid polygon: {merged}")
    return merged


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, largest remainders first, summing exactly."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    parts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


# --- units ------------------------------------------------------------------------------------


def _units(places: list[PlaceSpec], rng: random.Random) -> list[UnitSpec]:
    def phone() -> str:
        return f"010-{rng.choice('568')}{rng.randrange(10**7):07d}"

    units = [
        UnitSpec(f"{prefix}-{DISTRICT_CODE}", name, kind, (DISTRICT_CODE,), phone(), login)
        for prefix, name, kind, login in DISTRICT_UNITS
    ]
    streets = [p for p in places if p.level == PlaceLevel.STREET]
    for n, street in enumerate(streets, start=1):
        short = street.name.removesuffix("街道")
        for prefix, suffix, kind, stem in STREET_UNITS:
            units.append(
                UnitSpec(
                    f"{prefix}-{street.code}",
                    short + suffix,
                    kind,
                    (street.code,),
                    phone(),
                    f"{stem}{n}",
                )
            )
    brands = list(PROPERTY_BRANDS)
    rng.shuffle(brands)
    communities = [p for p in places if p.level == PlaceLevel.COMMUNITY]
    for community, brand in zip(communities, brands, strict=True):
        short = community.name.removesuffix("社区")
        units.append(
            UnitSpec(
                f"WY-{community.code}",
                f"{brand}物业服务有限公司{short}项目部",
                UnitKind.PROPERTY,
                (community.code,),
                phone(),
                f"unit_property_{community.code}",
            )
        )
        units.append(
            UnitSpec(
                f"JW-{community.code}",
                f"{short}社区居民委员会",
                UnitKind.COMMUNITY,
                (community.code,),
                phone(),
                f"unit_committee_{community.code}",
            )
        )
    return units


# --- accounts ---------------------------------------------------------------------------------


def _accounts(
    places: list[PlaceSpec], units: list[UnitSpec], rng: random.Random
) -> list[AccountSpec]:
    def person(username: str, role: str, **kw) -> AccountSpec:
        return AccountSpec(username=username, display_name=person_name(rng), role=role, **kw)

    streets = [p for p in places if p.level == PlaceLevel.STREET]
    communities = [p for p in places if p.level == PlaceLevel.COMMUNITY]
    grids = [p for p in places if p.level == PlaceLevel.GRID]
    accounts = [
        person("admin", Role.ADMIN, featured=True),
        person("leader", Role.LEADER, place_code=DISTRICT_CODE, featured=True),
    ]
    for n, street in enumerate(streets, start=1):
        accounts += [
            person(f"leader{n}", Role.LEADER, place_code=street.code, featured=n == 1),
            person(f"dispatcher{n}", Role.DISPATCHER, place_code=street.code, featured=True),
            person(f"org{n}", Role.ORG_ADMIN, place_code=street.code, featured=n == 1),
            person(f"volunteer{n}", Role.VOLUNTEER, place_code=street.code, featured=n == 1),
            person(f"social{n}", Role.SOCIAL_WORKER, place_code=street.code, featured=n == 1),
        ]
    first_of_street = {
        s.code: min(c.code for c in communities if c.parent_code == s.code) for s in streets
    }
    featured_communities = {first_of_street[streets[0].code], first_of_street[streets[1].code]}
    for community in communities:
        accounts.append(
            person(
                f"staff_{community.code}",
                Role.COMMUNITY_STAFF,
                place_code=community.code,
                featured=community.code in featured_communities,
            )
        )
    for grid in grids:
        accounts.append(
            person(
                f"grid_{grid.code}",
                Role.GRID_WORKER,
                place_code=grid.code,
                featured=grid.code == f"{first_of_street[streets[0].code]}001",
            )
        )
    featured_units = {"unit_water", "unit_urban1", f"unit_property_{communities[0].code}"}
    for unit in units:
        accounts.append(
            person(
                unit.login,
                Role.UNIT_HANDLER,
                unit_code=unit.code,
                featured=unit.login in featured_units,
            )
        )
    phones: set[str] = set()
    for n, community in enumerate(communities, start=1):
        home = min(g.code for g in grids if g.parent_code == community.code)
        phone = mobile_number(rng)
        while phone in phones:
            phone = mobile_number(rng)
        phones.add(phone)
        accounts.append(
            person(
                f"resident{n}",
                Role.RESIDENT,
                place_code=community.code,
                phone=phone,
                home_code=home,
                featured=n <= 2,
            )
        )
    return accounts
