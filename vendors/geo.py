"""Great-circle distance in Python, for the one shop at a time that checkout asks about.

The nearby search computes the same formula in SQL (vendors/api/nearby.py), so a shop listed as
delivering to a point is never refused at checkout for the same point.
"""

from decimal import Decimal
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = 111.32


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    half_dlat = (radians(lat2) - radians(lat1)) / 2
    half_dlng = (radians(lng2) - radians(lng1)) / 2
    chord = sin(half_dlat) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(half_dlng) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(min(chord, 1.0)))


def delivery_distance_km(vendor, lat: Decimal | float | None, lng: Decimal | float | None) -> float | None:
    """How far the address is from the shop, or None when either has no coordinates."""
    if None in (lat, lng, vendor.lat, vendor.lng):
        return None
    return distance_km(float(vendor.lat), float(vendor.lng), float(lat), float(lng))
