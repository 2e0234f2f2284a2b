"""The API's page-number pagination: 50 items a page by default, at most 500."""

from ninja.pagination import PageNumberPagination


class Page(PageNumberPagination):
    # Passed through __init__: ninja's constructor overwrites class attributes with its global
    # defaults (100 / 100).
    def __init__(self, page_size: int = 50, max_page_size: int = 500, **kwargs):
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)
