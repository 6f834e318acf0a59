"""Keeping a store honest: every object checked against its name, and objects no proposal refers
to removed once they are old enough that no proposal can still be on its way to the ledger.

`store gc` keeps an object younger than the grace period whatever the ledger says: `propose`
puts the model before the ledger records the proposal (and `put` renews an object's time), so
an unreferenced young object may be a proposal under way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from fedledger.store.base import ModelStore, StoredObject
from fedledger.store.errors import ObjectNotFoundError, StoreError


@dataclass(frozen=True)
class ObjectCheck:
    """One object checked: `actual` is the SHA-256 of its bytes, None when they could not be
    read (`problem` says why)."""

    stored: StoredObject
    actual: str | None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.actual == self.stored.sha256


def verify_objects(store: ModelStore) -> Iterator[ObjectCheck]:
    """Every object, hashed; one that cannot be read (unreachable, access denied) is listed
    with `actual` None. Raises StoreError when the store cannot even be listed."""
    for stored in store.objects():
        try:
            yield ObjectCheck(stored, store.digest(stored.sha256))
        except ObjectNotFoundError:
            continue  # removed since the listing: nothing to check
        except StoreError as error:
            yield ObjectCheck(stored, None, str(error))


def unreferenced(
    store: ModelStore, referenced: Iterable[str], *, grace: timedelta, now: datetime
) -> Iterator[StoredObject]:
    """The objects that no proposal names and that were last written more than `grace` ago.

    Raises StoreError when the store cannot be listed.
    """
    keep = set(referenced)
    for stored in store.objects():
        if stored.sha256 not in keep and now - stored.modified > grace:
            yield stored
