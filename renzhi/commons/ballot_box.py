"""The ballot box: ballots are sealed while a vote is open and opened, shuffled, only at the count.

Why: the participation (who voted) and the ballot (what was chosen) are written in one
transaction, so anything physical about the two rows — insertion order (SQLite rowid,
PostgreSQL ctid), the writing transaction (xmin), a timestamp — would pair them. So what a
voter chose is first written only *sealed*: encrypted and authenticated with a key derived from
the server key, padded to a fixed length so that its size says nothing either. At the count the
box is opened inside one transaction, the entries are shuffled with the system's CSPRNG and
written as `Ballot` rows with random UUID keys and no timestamp; the sealed rows are deleted.
Every ballot of a vote then carries the same transaction id and a random physical order.

The floor area a ballot carries publicly is rounded to `COMMONS_BALLOT_AREA_BUCKET` m²
(default 10), so a 187.35 m² flat does not name its owner. The count is still exact: the cast
area (quorum under 双三分之二 and the denominator of an area threshold) is the sum of the areas
confirmed for the electors who took part (the register), and each option's area is summed from
the exact areas inside the opened seals, in memory, before the ballots are written.

The seal is HMAC-SHA256 in counter mode as keystream, then HMAC-SHA256 over nonce and
ciphertext (encrypt-then-MAC), with separate derived keys: only the Python standard library is
available here. Keys come from SECRET_KEY (and SECRET_KEY_FALLBACKS, so a key rotation while a
vote is open does not lose ballots). Someone who holds both the database and the server key
while a vote is open can read the box; nobody can once it is counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Sum

from renzhi.commons.models import Ballot, Elector, Participation, SealedBallot, Vote
from renzhi.commons.tally import CastBallot, Outcome, Rules, count

PAD_TO = 256  # plaintext is padded to a multiple of this many bytes
NONCE_BYTES = 16
TAG_BYTES = 32


class BrokenSeal(Exception):
    """A sealed ballot that does not open with any known key (tampered or a lost key)."""


@dataclass(frozen=True)
class Entry:
    """An opened ballot: the choice, the voter's exact confirmed area, the receipt's HMAC."""

    choice: list[int]
    area: Decimal | None
    receipt_hash: str = ""


def put(vote: Vote, choice: Sequence[int], area: Decimal | None, receipt_hash: str = "") -> None:
    """Drop a sealed ballot into the box of an open vote."""
    SealedBallot.objects.create(
        vote=vote, sealed=seal(_plain(choice, area)), receipt_hash=receipt_hash
    )


def replace(vote: Vote, receipt_hash: str, choice: Sequence[int]) -> bool:
    """Replace the choice of the sealed ballot holding `receipt_hash` (False if there is none)."""
    row = (
        SealedBallot.objects.select_for_update()
        .filter(vote=vote, receipt_hash=receipt_hash)
        .exclude(receipt_hash="")
        .first()
    )
    if row is None:
        return False
    old = open_seal(row.sealed)
    row.sealed = seal(_plain(choice, old.area))
    row.save(update_fields=["sealed"])
    return True


def pending(vote: Vote) -> int:
    return SealedBallot.objects.filter(vote=vote).count()


def count_and_empty(vote: Vote) -> Outcome:
    """Open the box, count it exactly, write the shuffled ballots and delete the seals.

    Call inside the transaction that closes the vote, with the vote row locked."""
    rows = list(SealedBallot.objects.filter(vote=vote).only("sealed", "receipt_hash"))
    entries = [_with_receipt(open_seal(r.sealed), r.receipt_hash) for r in rows]
    secrets.SystemRandom().shuffle(entries)
    # Ballots written directly before the box existed (votes open across the upgrade) count too.
    legacy = [
        Entry(choice=list(b.choice), area=b.weight_area)
        for b in Ballot.objects.filter(vote=vote).only("choice", "weight_area")
    ]
    outcome = tally(vote, entries + legacy)
    counts_area = vote.by_area or vote.quorum_rule == "double_two_thirds"
    Ballot.objects.bulk_create(
        [
            Ballot(
                id=uuid.uuid4(),
                vote=vote,
                choice=e.choice,
                weight_area=bucket(e.area) if counts_area and e.area is not None else None,
                receipt_hash=e.receipt_hash,
            )
            for e in entries
        ]
    )
    SealedBallot.objects.filter(vote=vote).delete()
    return outcome


def tally(vote: Vote, entries: Sequence[Entry]) -> Outcome:
    """The exact outcome: option areas from the opened seals, the cast area from the register."""
    positions = list(vote.options.values_list("position", flat=True))
    cast = [CastBallot(choice=e.choice, area=e.area or Decimal("0")) for e in entries]
    voters = Participation.objects.filter(vote=vote).values("voter")
    register_area = Elector.objects.filter(vote=vote, user__in=voters).aggregate(a=Sum("area_m2"))[
        "a"
    ] or Decimal("0")
    rules = Rules(
        method=vote.method,
        quorum_rule=vote.quorum_rule,
        quorum_percent=vote.quorum_percent,
        pass_rule=vote.pass_rule,
        by_area=vote.by_area,
    )
    return count(
        rules,
        positions,
        cast,
        vote.electorate_size,
        vote.electorate_area,
        cast_area=Decimal(register_area).quantize(Decimal("0.01")),
    )


def bucket(area: Decimal) -> Decimal:
    """Round a floor area to the public bucket (half up; at least one bucket for a real flat)."""
    size = Decimal(str(getattr(settings, "COMMONS_BALLOT_AREA_BUCKET", 10)))
    if size <= 0:
        return area
    steps = (area / size).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if area > 0 and steps == 0:
        steps = Decimal("1")
    return (steps * size).quantize(Decimal("0.01"))


# --- The seal --------------------------------------------------------------------------------


def seal(plain: bytes) -> str:
    enc, mac = _keys(settings.SECRET_KEY)
    nonce = secrets.token_bytes(NONCE_BYTES)
    padded = plain + b" " * (-len(plain) % PAD_TO)
    body = bytes(a ^ b for a, b in zip(padded, _keystream(enc, nonce, len(padded)), strict=True))
    tag = hmac.new(mac, nonce + body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(nonce + body + tag).decode("ascii")


def open_seal(token: str) -> Entry:
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise BrokenSeal("not a sealed ballot") from exc
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        enc, mac = _keys(secret)
        if hmac.compare_digest(hmac.new(mac, nonce + body, hashlib.sha256).digest(), tag):
            plain = bytes(
                a ^ b for a, b in zip(body, _keystream(enc, nonce, len(body)), strict=True)
            )
            data = json.loads(plain.decode("utf-8").rstrip(" "))
            area = data.get("a")
            return Entry(choice=list(data["c"]), area=Decimal(area) if area is not None else None)
    raise BrokenSeal("a sealed ballot does not open with the server key")


def _plain(choice: Sequence[int], area: Decimal | None) -> bytes:
    data = {"c": list(choice), "a": str(area) if area is not None else None}
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def _keys(secret: str) -> tuple[bytes, bytes]:
    root = hashlib.sha256(f"commons.ballot-box:{secret}".encode()).digest()
    return (
        hmac.new(root, b"encrypt", hashlib.sha256).digest(),
        hmac.new(root, b"authenticate", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for i in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def _with_receipt(entry: Entry, receipt_hash: str) -> Entry:
    return Entry(choice=entry.choice, area=entry.area, receipt_hash=receipt_hash)
