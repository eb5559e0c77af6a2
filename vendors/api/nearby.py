"""Vendors near a point, by great-circle distance computed in SQL (PostgreSQL and SQLite alike).

Only shops that deliver to the point are near it: the search radius narrows
the list, each shop's own delivery radius decides whether it is on it at all.
The same distance, in Python, decides at checkout (`vendors.geo`).
"""

from math import cos, radians

from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt

from vendors.geo import EARTH_RADIUS_KM, KM_PER_DEGREE_LATITUDE
from vendors.models import Vendor


def _bounding_box(lat: float, lng: float, radius_km: float) -> Q:
    """A cheap index-friendly pre-filter; the exact distance decides."""
    lat_span = radius_km / KM_PER_DEGREE_LATITUDE
    box = Q(lat__gte=lat - lat_span, lat__lte=lat + lat_span)
    lng_span = radius_km / (KM_PER_DEGREE_LATITUDE * max(cos(radians(lat)), 1e-6))
    # Near the poles or across the antimeridian the longitude window wraps: latitude alone must do.
    if lng - lng_span >= -180 and lng + lng_span <= 180:
        box &= Q(lng__gte=lng - lng_span, lng__lte=lng + lng_span)
    return box


def _haversine_km(lat: float, lng: float):
    vendor_lat = Radians(Cast(F("lat"), FloatField()))
    vendor_lng = Radians(Cast(F("lng"), FloatField()))
    half_dlat = (vendor_lat - Value(radians(lat))) / Value(2.0)
    half_dlng = (vendor_lng - Value(radians(lng))) / Value(2.0)
    chord = Power(Sin(half_dlat), 2) + Value(cos(radians(lat))) * Cos(vendor_lat) * Power(Sin(half_dlng), 2)
    # Rounding can push the chord a hair above 1, outside asin's domain.
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(Least(chord, Value(1.0))))


def vendors_near(vendors: QuerySet[Vendor], *, lat: float, lng: float, radius_km: float) -> QuerySet[Vendor]:
    """`vendors` within `radius_km` of the point that deliver to it, nearest first, each annotated with
    `distance_km`."""
    return (
        vendors.filter(lat__isnull=False, lng__isnull=False)
        .filter(_bounding_box(lat, lng, radius_km))
        .annotate(distance_km=_haversine_km(lat, lng))
        .filter(distance_km__lte=radius_km)
        .filter(distance_km__lte=Cast(F("delivery_radius_km"), FloatField()))
        .order_by("distance_km", "id")
    )
