"""Query fields of the account domain."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from .types import Account


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The caller's account: identifier keys, attributes, lists, audiences.")
    async def account(self, info: Info[Any, None]) -> Account:
        return Account.from_doc(await info.context.account())
