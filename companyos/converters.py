"""URL path converters. `<id:pk>` is `<int:pk>` bounded to what a PostgreSQL bigint primary key can
hold: an id past it cannot name a row, so it is no match (404) instead of a DataError (500) in the
lookup or in writing the denial entry."""

MAX_ROW_ID = 2**63 - 1


def row_id(value) -> int | None:
    """`value` as a row id (1 … MAX_ROW_ID), else None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ROW_ID else None


class RowIdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = row_id(value)
        if number is None:
            raise ValueError(value)  # Django: no match
        return number

    def to_url(self, value) -> str:
        return str(int(value))
