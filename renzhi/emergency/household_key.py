"""One flat, one household: the key under which a household's address is compared.

A one-per-household aid kit was handed out four times to one flat written four ways
("5栋1单元101", "5栋1单元101室", "5栋 1单元 101", "５栋１单元１０１") because households were
unique by their address as typed (issue 23 #7). Households are now unique by `address_key`:

- NFKC (full-width digits and letters become ASCII), lower case, no spaces;
- the common building/unit/room words become one separator: 号楼 栋 幢 座 号院 楼 单元 门
  and a 号 inside the address; a trailing 室 号 户 is dropped; separators (- — / · , # 、 .)
  are one "-";
- numbers lose leading zeros ("0301" is "301").

So "5号楼1单元101室", "5-1-101" and "５幢１单元０１０１" are the same household.
`near_key` is coarser (only the numbers, in order): households of one community sharing it
but not the key are shown to staff as possible duplicates, not merged silently.
"""

from __future__ import annotations

import re
import unicodedata

# Longer words first so that 号楼 is taken before 号 and 楼.
_PARTS = re.compile(r"号楼|号院|单元|栋|幢|座|楼|门|号(?=.)")
_TRAILING = re.compile(r"(室|号|户)+$")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―－/\\·•.,，、#＃_]+")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_NUMBER = re.compile(r"\d+")


def address_key(address: str) -> str:
    """The normalised form of `address` households are unique by (within a community)."""
    text = unicodedata.normalize("NFKC", address or "")
    text = _ZERO_WIDTH.sub("", text).lower()
    text = re.sub(r"\s+", "", text)
    text = _TRAILING.sub("", text)
    text = _PARTS.sub("-", text)
    text = text.replace("室", "")
    text = _SEPARATORS.sub("-", text).strip("-")
    return _NUMBER.sub(lambda m: str(int(m.group())), text)


def near_key(address: str) -> str:
    """Only the numbers of the address in order ("3-2-301"): a coarse match for review."""
    return "-".join(str(int(n)) for n in _NUMBER.findall(address_key(address)))
