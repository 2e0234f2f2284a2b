"""Boundaries and point-in-polygon lookup, with shapely 2 (GEOS).

Why shapely: it wraps GEOS, the geometry engine behind PostGIS, with vectorised predicates and an
STRtree spatial index, so lookups are exact on edges and holes and need no database extension.

A point on an edge shared by two grids belongs to the grid with the smaller code (deterministic);
a point inside a hole belongs to no grid; edges of holes count as inside (`covers`).

Each process keeps one snapshot: the STRtree over the grids and every place's row, so `locate()`
answers with the grid and its ancestors after a single freshness query (see `bench/geo_lookup.py`).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from renzhi.core.errors import ActionError
from renzhi.core.models import Place, PlaceLevel

# Containment tolerance in degrees (~1 cm) for "child lies inside parent", to forgive rounding.
CONTAINMENT_TOLERANCE = 1e-7
# A boundary is drawn or imported by a person; more vertices than this is a mistake or an attack.
MAX_VERTICES = 100_000


def parse_boundary(geojson: Any, field: str = "boundary") -> BaseGeometry:
    """A valid Polygon/MultiPolygon in lng/lat from a GeoJSON geometry, Feature or JSON text.

    The coordinates are checked by hand before shapely sees them: shapely silently closes an
    open ring, coerces booleans to numbers and crashes on NaN, and a person drawing a boundary
    deserves a message naming the actual problem.
    """
    if isinstance(geojson, str | bytes):
        try:
            geojson = json.loads(geojson)
        except ValueError as exc:
            raise ActionError(
                _("The boundary is not valid JSON: %(error)s") % {"error": exc}, field=field
            ) from exc
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ActionError(_("The boundary must be a GeoJSON Polygon or MultiPolygon."), field=field)
    problem = _coordinates_problem(geojson["type"], geojson.get("coordinates"))
    if problem:
        raise ActionError(problem, field=field)
    try:
        geom = shape(geojson)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        shapely.errors.ShapelyError,
    ) as exc:
        raise ActionError(
            _("The boundary is not valid GeoJSON: %(error)s") % {"error": exc}, field=field
        ) from exc
    if geom.is_empty:
        raise ActionError(_("The boundary is empty."), field=field)
    if not geom.is_valid:
        raise ActionError(
            _("The boundary is not a valid polygon: %(reason)s")
            % {"reason": invalidity_reason(geom)},
            field=field,
        )
    return geom


# GEOS names why a geometry is invalid in English; these are its reasons, translated.
_GEOS_REASONS = {
    "Self-intersection": gettext_lazy("the edges cross each other"),
    "Ring Self-intersection": gettext_lazy("a ring touches itself"),
    "Too few points in geometry component": gettext_lazy("a ring has too few distinct points"),
    "Hole lies outside shell": gettext_lazy("a hole lies outside the outer ring"),
    "Holes are nested": gettext_lazy("one hole lies inside another"),
    "Interior is disconnected": gettext_lazy("the holes cut the area into pieces"),
    "Nested shells": gettext_lazy("one part lies inside another"),
    "Duplicate Rings": gettext_lazy("a ring is repeated"),
    "Invalid Coordinate": gettext_lazy("a coordinate is not a number"),
    "Ring is not closed": gettext_lazy("a ring is not closed"),
}


def invalidity_reason(geom: BaseGeometry) -> str:
    """GEOS's reason in the user's language, with the point where it was found:
    "Self-intersection[116.4 39.9]" becomes "the edges cross each other (at 116.4, 39.9)"."""
    raw = shapely.is_valid_reason(geom)
    kind, _sep, where = raw.partition("[")
    reason = _GEOS_REASONS.get(kind.strip())
    if reason is None:
        return raw
    point = where.rstrip("]").split()
    if len(point) >= 2:
        return _("%(reason)s (at %(x)s, %(y)s)") % {"reason": reason, "x": point[0], "y": point[1]}
    return str(reason)


def to_geojson(geom: BaseGeometry) -> dict:
    return _lists(mapping(geom))


def lies_within(child: BaseGeometry, parent: BaseGeometry) -> bool:
    return parent.buffer(CONTAINMENT_TOLERANCE).covers(child)


def boundary_fields(geom: BaseGeometry) -> dict:
    """Model field values derived from a geometry (bbox and a representative point)."""
    minx, miny, maxx, maxy = geom.bounds
    centre = geom.representative_point()
    return {
        "boundary": to_geojson(geom),
        "min_lng": minx,
        "min_lat": miny,
        "max_lng": maxx,
        "max_lat": maxy,
        "centre_lng": centre.x,
        "centre_lat": centre.y,
    }


@dataclass(frozen=True)
class GridIndex:
    """An STRtree over grid polygons. Immutable; rebuilt when grids change."""

    codes: list[str]
    ids: np.ndarray
    geoms: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def build(cls, places: list[Place]) -> GridIndex:
        places = sorted((p for p in places if p.boundary), key=lambda p: p.code)
        geoms = np.array([shape(p.boundary) for p in places], dtype=object)
        shapely.prepare(geoms)
        return cls(
            codes=[p.code for p in places],
            ids=np.array([p.pk for p in places], dtype=np.int64),
            geoms=geoms,
            tree=shapely.STRtree(geoms),
        )

    def locate_many(self, lngs: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Index into `codes` for each point, -1 when outside every grid. Vectorised."""
        points = shapely.points(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float))
        result = np.full(len(points), -1, dtype=np.int64)
        if len(self.codes) == 0:
            return result
        point_idx, geom_idx = self.tree.query(points, predicate="covered_by")
        # Several grids can cover a point on a shared edge: keep the smallest code (= index).
        order = np.lexsort((geom_idx, point_idx))
        point_idx, geom_idx = point_idx[order], geom_idx[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = geom_idx[first]
        return result

    def locate_id(self, lng: float, lat: float) -> int | None:
        """The id of the grid covering one point; the intake path, so no batch machinery."""
        hits = self.tree.query(shapely.Point(lng, lat), predicate="covered_by")
        # Indexes follow code order, so the smallest index is the smallest code on a shared edge.
        return None if len(hits) == 0 else int(self.ids[hits.min()])


@dataclass(frozen=True)
class _Snapshot:
    """The grid index plus every place's row (without boundary), valid while `stamp` holds."""

    stamp: tuple
    index: GridIndex
    rows: dict[int, tuple]  # place id -> values of ROW_FIELDS


# Everything but the boundary: a located grid and its ancestors are built from these without a
# query; their boundary stays a deferred field that loads on first access.
ROW_FIELDS = [f.attname for f in Place._meta.concrete_fields if f.attname != "boundary"]

_cache_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def grid_index() -> GridIndex:
    """The process-wide grid index, rebuilt when any place changed."""
    return _current_snapshot().index


def locate(lat: float, lng: float) -> Place | None:
    """The grid containing the point (its parent chain loaded), or None outside the service area."""
    snapshot = _current_snapshot()
    place_id = snapshot.index.locate_id(lng, lat)
    if place_id is None:
        return None
    return _place_with_ancestors(snapshot, place_id)


def _current_snapshot() -> _Snapshot:
    """The cached snapshot if no place changed since it was taken, else a fresh one.

    The freshness check is one aggregate over the place table (thousands of rows at most), run
    on every lookup so that each process (every gunicorn worker) sees an edit made by any other
    on its next lookup. It relies on every change going through `save()` (actions do), which
    moves `updated_at`; a deletion moves the count. Raw SQL because the ORM spends ten times
    longer compiling the aggregate than SQLite spends answering it.
    """
    global _snapshot
    stamp = _stamp()
    snapshot = _snapshot
    if snapshot is not None and snapshot.stamp == stamp:
        return snapshot
    with _cache_lock:
        snapshot = _snapshot
        if snapshot is not None and snapshot.stamp == stamp:
            return snapshot
        # Read the stamp before the rows: a change landing in between makes the next call rebuild.
        grids = Place.objects.filter(level=PlaceLevel.GRID).only("id", "code", "boundary")
        rows = {row[0]: row for row in Place.objects.values_list(*ROW_FIELDS)}
        snapshot = _Snapshot(stamp=stamp, index=GridIndex.build(list(grids)), rows=rows)
        _snapshot = snapshot
        return snapshot


def _stamp() -> tuple:
    table = connection.ops.quote_name(Place._meta.db_table)
    changed = connection.ops.quote_name(Place._meta.get_field("updated_at").column or "updated_at")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX({changed}) FROM {table}")
        return (connection.alias, connection.settings_dict["NAME"], *cursor.fetchone())


def _place_with_ancestors(snapshot: _Snapshot, place_id: int) -> Place:
    """Fresh model instances (callers may modify them) for the place and its parents."""
    place = Place.from_db(connection.alias, ROW_FIELDS, snapshot.rows[place_id])
    child = place
    while child.parent_id is not None:
        parent = Place.from_db(connection.alias, ROW_FIELDS, snapshot.rows[child.parent_id])
        child.parent = parent
        child = parent
    return place


def _coordinates_problem(kind: str, coordinates: Any) -> str | None:
    """What is wrong with a Polygon's or MultiPolygon's coordinates, or None."""
    if coordinates is None or coordinates == []:
        return _("The boundary is empty.")
    if not isinstance(coordinates, list | tuple):
        return _("The boundary's coordinates must be a list of rings.")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    vertices = 0
    for polygon in polygons:
        if not isinstance(polygon, list | tuple) or not polygon:
            return _("Each polygon of the boundary needs at least one ring.")
        for ring in polygon:
            if not isinstance(ring, list | tuple) or len(ring) < 4:
                return _(
                    "Each ring of the boundary needs at least four positions "
                    "(three corners and the first one again)."
                )
            for position in ring:
                problem = _position_problem(position)
                if problem:
                    return problem
            if tuple(ring[0][:2]) != tuple(ring[-1][:2]):
                return _("Each ring of the boundary must end at the position where it starts.")
            vertices += len(ring)
    if vertices > MAX_VERTICES:
        return _("The boundary has more than %(n)d positions.") % {"n": MAX_VERTICES}
    return None


def _position_problem(position: Any) -> str | None:
    if not (
        isinstance(position, list | tuple)
        and len(position) in (2, 3)
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in position
        )
    ):
        return _(
            "Each position of the boundary must be [longitude, latitude] in numbers, "
            "not %(position)s."
        ) % {"position": json.dumps(position, default=str)[:60]}
    lng, lat = position[0], position[1]
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        return _("The boundary has coordinates outside longitude/latitude range: %(position)s.") % {
            "position": json.dumps(position)
        }
    return None


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value
