"""Query fields of the account domain."""

from __future__ import annotations

import strawberry

from app.context import Info

from .types import Account


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The caller's account: identifier keys, attributes, lists, audiences.")
    async def account(self, info: Info) -> Account:
        return Account.from_doc(await info.context.account())
