"""Boundaries and point-in-polygon lookup, with shapely 2 (GEOS).

Why shapely: it wraps GEOS, the geometry engine behind PostGIS, with vectorised predicates and an
STRtree spatial index, so lookups are exact on edges and holes and need no database extension.

A point on an edge shared by two grids belongs to the grid with the smaller code (deterministic);
a point inside a hole belongs to no grid; edges of holes count as inside (`covers`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from renzhi.core.errors import ActionError
from renzhi.core.models import Place, PlaceLevel

# Containment tolerance in degrees (~1 cm) for "child lies inside parent", to forgive rounding.
CONTAINMENT_TOLERANCE = 1e-7


def parse_boundary(geojson: Any, field: str = "boundary") -> BaseGeometry:
    """A valid Polygon/MultiPolygon in lng/lat from a GeoJSON geometry, Feature or JSON text."""
    import json

    if isinstance(geojson, str | bytes):
        try:
            geojson = json.loads(geojson)
        except ValueError as exc:
            raise ActionError(_("The boundary is not valid JSON: %(error)s") % {"error": exc}, field=field) from exc
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ActionError(_("The boundary must be a GeoJSON Polygon or MultiPolygon."), field=field)
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ActionError(_("The boundary is not valid GeoJSON: %(error)s") % {"error": exc}, field=field) from exc
    if geom.is_empty:
        raise ActionError(_("The boundary is empty."), field=field)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise ActionError(_("The boundary is not a valid polygon: %(reason)s") % {"reason": reason}, field=field)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ActionError(_("The boundary has coordinates outside longitude/latitude range."), field=field)
    return geom


def to_geojson(geom: BaseGeometry) -> dict:
    return _lists(mapping(geom))


def lies_within(child: BaseGeometry, parent: BaseGeometry) -> bool:
    return parent.buffer(CONTAINMENT_TOLERANCE).covers(child)


def boundary_fields(geom: BaseGeometry) -> dict:
    """Model field values derived from a geometry (bbox and a representative point)."""
    minx, miny, maxx, maxy = geom.bounds
    centre = geom.representative_point()
    return {
        "boundary": to_geojson(geom), "min_lng": minx, "min_lat": miny, "max_lng": maxx,
        "max_lat": maxy, "centre_lng": centre.x, "centre_lat": centre.y,
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
        idx = self.locate_many(np.array([lng]), np.array([lat]))[0]
        return None if idx < 0 else int(self.ids[idx])


_cache_lock = threading.Lock()
_cached: tuple[tuple, GridIndex] | None = None


def grid_index() -> GridIndex:
    """The process-wide index, rebuilt when the set of grids or any grid's boundary changed."""
    global _cached
    grids = Place.objects.filter(level=PlaceLevel.GRID)
    stamp = tuple(grids.aggregate(n=Count("id"), changed=Max("updated_at")).values())
    cached = _cached
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _cache_lock:
        index = GridIndex.build(list(grids.only("id", "code", "boundary")))
        _cached = (stamp, index)
        return index


def locate(lat: float, lng: float) -> Place | None:
    """The grid containing the point, or None outside the service area."""
    place_id = grid_index().locate_id(lng, lat)
    if place_id is None:
        return None
    return Place.objects.select_related("parent__parent__parent").get(pk=place_id)


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value
