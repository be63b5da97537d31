"""Distances between GCJ-02 points (what WeChat's wx.getLocation, 浙里办's bridge and Chinese maps all use). Both ends
are in the same datum, so the great-circle distance on a sphere is right to a few metres at city scale."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8
# Mainland China with a margin: a point outside is a typo or swapped coordinates, not a branch of ours.
LAT_RANGE, LNG_RANGE = (3.0, 54.0), (73.0, 136.0)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    """Metres between two points (haversine), rounded."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi, dlmb = radians(lat2 - lat1), radians(lng2 - lng1)
    a = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlmb / 2) ** 2
    return round(2 * EARTH_RADIUS_M * asin(sqrt(a)))
