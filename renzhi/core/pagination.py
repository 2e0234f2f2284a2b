"""The API's page-number pagination: 50 items a page by default, at most 500.

Page numbers are bounded (MAX_PAGE): an unbounded one (9223372036854775808) made an offset the
database cannot hold (SQLite's OverflowError, PostgreSQL's "bigint out of range") and a 500. A
page number outside 1..MAX_PAGE, negative or not a whole number is a 400 naming `page`; a page
past the end within the bound is simply empty (the count says how many there are)."""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

# A million pages of the largest page size (500) is an offset of 5·10⁸: far inside a 64-bit
# integer, far beyond any list we keep.
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 500


class Page(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=10 * MAX_PAGE)

    # Passed through __init__: ninja's constructor overwrites class attributes with its global
    # defaults (100 / 100).
    def __init__(self, page_size: int = 50, max_page_size: int = MAX_PAGE_SIZE, **kwargs):
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)
