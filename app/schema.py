"""The strawberry.Schema: the domain roots merged, with parser and validation caches and the
compiled executor."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import Info

from app.account.mutations import AccountMutations
from app.account.queries import AccountQueries
from app.activities.mutations import ActivityMutations
from app.activities.queries import ActivityQueries
from app.activities.subscriptions import ActivitySubscriptions
from app.activities.types import Activity
from app.auth import Principal, ScopeName, requires
from app.commerce.mutations import CommerceMutations
from app.commerce.queries import CommerceQueries
from app.commerce.types import Order
from app.contacts.mutations import ContactMutations
from app.contacts.queries import ContactQueries
from app.contacts.subscriptions import ContactSubscriptions
from app.contacts.types import Contact
from app.errors import MaskUnexpectedErrors
from app.executor import CompiledExecutor
from app.jobs.resolvers import JobMutations, JobQueries, JobSubscriptions
from app.jobs.types import ActivityReport, Job
from app.limits import graphql_limits
from app.metrics import OperationMetrics
from app.persisted import PersistedQueries, PersistedQueryStore, load_manifest
from app.scalars import SCALAR_MAP
from app.settings import Settings
from app.tracing import tracing_extensions

# The scope a key needs to fetch each Node type through node(id:).
NODE_SCOPES = {
    "Contact": ScopeName.CONTACTS_READ,
    "Order": ScopeName.CONTACTS_READ,
    "Activity": ScopeName.ACTIVITIES_READ,
    "Job": ScopeName.CONTACTS_READ,
    "ActivityReport": ScopeName.REPORTS,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object with a global id (Contact, Activity, Order); null if unknown.")
    async def node(self, info: Info[Any, None], id: relay.GlobalID) -> relay.Node | None:
        scope = NODE_SCOPES.get(id.type_name)
        if scope is None:
            return None
        principal: Principal = info.context.principal
        if not principal.allows(scope):
            denied = requires(scope)()
            raise denied.error_class(denied.message or "Not allowed", extensions=denied.error_extensions)
        node: relay.Node | None = await id.resolve_node(info, required=False)
        return node


Query = merge_types(
    "Query", (ContactQueries, ActivityQueries, CommerceQueries, JobQueries, AccountQueries, NodeQueries)
)
Mutation = merge_types(
    "Mutation", (ContactMutations, ActivityMutations, CommerceMutations, JobMutations, AccountMutations)
)

Subscription = merge_types("Subscription", (ActivitySubscriptions, ContactSubscriptions, JobSubscriptions))


def build_schema(settings: Settings | None = None) -> strawberry.federation.Schema:
    """The schema with the extensions ``settings`` asks for (its SDL never depends on them)."""
    production = settings is not None and settings.is_production
    compiled = settings is None or settings.compiled_execution
    extensions: list[Any] = [lambda: ParserCache(maxsize=1024), lambda: ValidationCache(maxsize=1024)]
    if settings is not None:
        extensions.append(OperationMetrics)
        extensions.extend(tracing_extensions(settings))
        extensions.extend(graphql_limits(settings))
        if not settings.introspection_enabled:
            extensions.append(DisableIntrospection)
        if production:
            extensions.append(MaskUnexpectedErrors)
        safelist = load_manifest(settings.safelist_file) if settings.safelist_file else None
        store = PersistedQueryStore(settings.persisted_queries, safelist)
        extensions.append(lambda: PersistedQueries(store=store))  # last: see its docstring
    return strawberry.federation.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Contact, Activity, Order, Job, ActivityReport],
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
        # Queries run on a compiled plan when they can (app/executor.py), else graphql-core's executor.
        execution_context_class=CompiledExecutor if compiled else None,
        # Factories: a fresh extension per request; the parser and validation caches are shared.
        extensions=extensions,
    )


schema = build_schema()


def schema_sdl() -> str:
    return schema.as_str() + "\n"
