"""Who takes part in a run: plain data shared by the seeding side and the Django-free processes."""

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Size:
    customers: int
    vendors: int
    staff: int
    admins: int


@dataclass
class Member:
    user_id: int
    token: str
    role: str  # customer | staff | admin
    vendor_id: int | None = None


@dataclass
class Population:
    customers: list[Member] = field(default_factory=list)
    staff: list[Member] = field(default_factory=list)
    admins: list[Member] = field(default_factory=list)
    # vendor id -> the ids of its products
    products: dict[int, list[int]] = field(default_factory=dict)

    @property
    def members(self) -> list[Member]:
        return self.customers + self.staff + self.admins

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Population":
        return cls(
            customers=[Member(**member) for member in data["customers"]],
            staff=[Member(**member) for member in data["staff"]],
            admins=[Member(**member) for member in data["admins"]],
            products={int(vendor_id): ids for vendor_id, ids in data["products"].items()},
        )
