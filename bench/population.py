"""The people, shops and products a benchmark run needs, and the API tokens its sockets use.

Users and memberships are set-up data that nobody subscribes to while they
are written, so they go in with the ORM in bulk; shops, products and tokens
go through their constructors' save() or the services, so the event stream
stays consistent (the high-water mark simply starts above zero).
"""

import secrets

from django.contrib.auth.hashers import make_password

from accounts.models import User
from accounts.services import api_token_create
from bench.members import Member, Population, Size
from catalog.services import product_create
from vendors.models import Vendor, VendorStaff

STOCK = 1_000_000
PRODUCTS_PER_VENDOR = 2


def _users(label: str, count: int, *, is_staff: bool = False) -> list[User]:
    """Bulk-created users sharing one unusable password hash (nobody signs in with a password)."""
    password = make_password(None)
    users = [
        User(
            email=f"{label}-{index}@bench.zora.test", full_name=f"{label} {index}", password=password, is_staff=is_staff
        )
        for index in range(count)
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(email__startswith=f"{label}-", email__endswith="@bench.zora.test").order_by("id"))


def _member(user: User, role: str, vendor_id: int | None = None) -> Member:
    _, key = api_token_create(user=user, name="bench")
    return Member(user_id=user.pk, token=key, role=role, vendor_id=vendor_id)


def seed(size: Size) -> Population:
    """A fresh, disjoint population under a random label, so runs can share one database."""
    label = "b" + secrets.token_hex(4)
    population = Population()
    customers = _users(f"{label}-customer", size.customers)
    staff_users = _users(f"{label}-staff", size.staff)
    admins = _users(f"{label}-admin", size.admins, is_staff=True)

    vendors = []
    for index in range(size.vendors):
        owner = staff_users[index]
        vendor = Vendor(owner=owner, name=f"Bench shop {label} {index}", slug=f"{label}-shop-{index}")
        vendor.save()
        vendors.append(vendor)
    memberships = [
        VendorStaff(
            vendor=vendors[index % size.vendors],
            user=user,
            role=VendorStaff.Role.OWNER if index < size.vendors else VendorStaff.Role.STAFF,
        )
        for index, user in enumerate(staff_users)
    ]
    VendorStaff.objects.bulk_create(memberships)

    for vendor in vendors:
        population.products[vendor.pk] = [
            product_create(actor=vendor.owner, vendor=vendor, name=f"Bench item {n}", price="4.50", stock=STOCK).pk
            for n in range(PRODUCTS_PER_VENDOR)
        ]
    population.customers = [_member(user, "customer") for user in customers]
    population.staff = [_member(membership.user, "staff", membership.vendor_id) for membership in memberships]
    population.admins = [_member(user, "admin") for user in admins]
    return population
