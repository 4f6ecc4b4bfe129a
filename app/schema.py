"""The strawberry.Schema: the domain roots merged, with parser and validation caches and the
compiled executor."""

from __future__ import annotations

import logging
from typing import Any, cast

import strawberry
from graphql import DirectiveDefinitionNode, GraphQLError, TypeDefinitionNode, parse, print_ast, print_schema
from strawberry import relay
from strawberry.extensions import AddValidationRules, DisableIntrospection, ParserCache
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from app.account.mutations import AccountMutations
from app.account.queries import AccountQueries
from app.activities.mutations import ActivityMutations
from app.activities.queries import ActivityQueries
from app.activities.subscriptions import ActivitySubscriptions
from app.activities.types import Activity
from app.auth import ScopeName, ensure_allowed
from app.commerce.mutations import CommerceMutations
from app.commerce.queries import CommerceQueries
from app.commerce.types import Order
from app.compiled import CompiledExecutor
from app.connection import DocNode
from app.contacts.mutations import ContactMutations
from app.contacts.queries import ContactQueries
from app.contacts.subscriptions import ContactSubscriptions
from app.contacts.types import Contact
from app.context import Info
from app.errors import DomainError, ErrorCode
from app.graphql_errors import MaskUnexpectedErrors, input_errors, is_fault
from app.jobs.mutations import JobMutations
from app.jobs.queries import JobQueries
from app.jobs.subscriptions import JobSubscriptions
from app.jobs.types import ActivityReport, Job
from app.limits import NoFederationSdl, SubscriptionsOverWebsocket, checked_validation, graphql_limits
from app.metrics import OperationMetrics
from app.persisted import PersistedQueries, PersistedQueryStore, load_manifest
from app.scalars import SCALAR_MAP
from app.settings import Settings
from app.tracing import tracing_extensions

MAX_NODE_IDS = 100
# Each Node type, and the scope a key needs to fetch it through node(id:) or nodes(ids:).
NODE_TYPES: dict[str, tuple[type[DocNode], ScopeName]] = {
    "Contact": (Contact, ScopeName.CONTACTS_READ),
    "Order": (Order, ScopeName.CONTACTS_READ),
    "Activity": (Activity, ScopeName.ACTIVITIES_READ),
    "Job": (Job, ScopeName.CONTACTS_READ),
    "ActivityReport": (ActivityReport, ScopeName.REPORTS),
}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object with a global id (Contact, Activity, Order); null if unknown.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        known = NODE_TYPES.get(id.type_name)
        if known is None:
            return None
        ensure_allowed(info.context.principal, known[1])
        node: relay.Node | None = await id.resolve_node(info, required=False)
        return node

    @strawberry.field(
        description=f"Objects by global id, in the order given (null for unknown ones), at most "
        f"{MAX_NODE_IDS}: one database command per type, whatever the number of ids."
    )
    @input_errors
    async def nodes(self, info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODE_IDS:
            raise DomainError.one(ErrorCode.VALIDATION_ERROR, f"At most {MAX_NODE_IDS} ids", ("ids",))
        by_type: dict[str, list[int]] = {}
        for index, global_id in enumerate(ids):
            known = NODE_TYPES.get(global_id.type_name)
            if known is not None:
                ensure_allowed(info.context.principal, known[1])
                by_type.setdefault(global_id.type_name, []).append(index)
        found: list[relay.Node | None] = [None] * len(ids)
        for type_name, indexes in by_type.items():
            nodes = await NODE_TYPES[type_name][0].resolve_nodes(
                info=info, node_ids=[ids[i].node_id for i in indexes]
            )
            for index, node in zip(indexes, nodes, strict=True):
                found[index] = node
        return found


def _root(name: str, description: str, domains: tuple[type, ...]) -> type:
    """One root type from the domains' classes (strawberry's merge_types, with a description)."""
    return strawberry.type(type(name, domains, {}), name=name, description=description)


Query = _root(
    "Query",
    "Reads: contacts, activities, orders, jobs, reports and the account, all of the caller's account.",
    (ContactQueries, ActivityQueries, CommerceQueries, JobQueries, AccountQueries, NodeQueries),
)
Mutation = _root(
    "Mutation",
    "Writes: contacts, carts, orders, events, jobs, reports and the account's configuration.",
    (ContactMutations, ActivityMutations, CommerceMutations, JobMutations, AccountMutations),
)
Subscription = _root(
    "Subscription",
    "Live streams over graphql-transport-ws on /graphql: activities, contact changes, jobs.",
    (ActivitySubscriptions, ContactSubscriptions, JobSubscriptions),
)


log = logging.getLogger(__name__)


class FederatedSchema(strawberry.federation.Schema):
    """Federation's schema with ``_entities`` checking each representation first: one that is
    not an object, names no entity type or carries other fields than one of the type's
    ``@key``s gets an error of its own (``INVALID_REPRESENTATION``), and the others resolve."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Faults are logged at ERROR with their traceback (strawberry's logger); the client's
        own mistakes (syntax, validation, an unknown persisted query, a typed input error)
        at INFO, since they say nothing of the service's health."""
        for error in errors:
            if not is_fault(error):
                code = (error.extensions or {}).get("code")
                log.info("request error", extra={"code": code, "error": error.message[:200]})
        super().process_errors([e for e in errors if is_fault(e)], execution_context)

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        results: list[FederationAny] = [FederationAny(None)] * len(representations)
        valid: list[int] = []
        for index, representation in enumerate(representations):
            problem = self._representation_problem(representation)
            if problem is None:
                valid.append(index)
            else:
                error = GraphQLError(
                    f"Representation {index}: {problem}", extensions={"code": "INVALID_REPRESENTATION"}
                )
                results[index] = FederationAny(error)
        # Checked objects; copied, as strawberry's resolver pops __typename from them.
        copies = [FederationAny(dict(cast(dict[str, Any], representations[i]))) for i in valid]
        resolved = super().entities_resolver(info, copies)
        for index, result in zip(valid, resolved, strict=True):
            results[index] = result
        return results

    def _representation_problem(self, representation: Any) -> str | None:
        if not isinstance(representation, dict):
            return "must be an object with __typename and the fields of one @key"
        type_name = representation.get("__typename")
        keys = ENTITY_KEYS.get(type_name) if isinstance(type_name, str) else None
        if keys is None:
            return f"__typename must name an entity type ({', '.join(ENTITY_KEYS)})"
        given = frozenset(representation) - {"__typename"}
        if given not in keys:
            shown = " or ".join(", ".join(sorted(k)) for k in keys)
            return f"a {type_name} representation carries exactly the fields of one @key ({shown})"
        if any(not isinstance(representation[k], str) for k in given):
            return "key fields are strings"
        return None


ENTITY_TYPES = [Contact]
# The @key field sets of each entity type, as its definition declares them.
ENTITY_KEYS: dict[str, tuple[frozenset[str], ...]] = {
    definition.name: tuple(
        frozenset(d.fields.split()) for d in definition.directives or () if isinstance(d, Key)
    )
    for definition in (get_object_definition(t, strict=True) for t in ENTITY_TYPES)
}


def build_schema(settings: Settings | None = None) -> strawberry.federation.Schema:
    """The schema with the extensions ``settings`` asks for (its SDL never depends on them)."""
    production = settings is not None and settings.is_production
    compiled = settings is None or settings.compiled_execution
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=1024),
        checked_validation(maxsize=1024),
        SubscriptionsOverWebsocket,
    ]
    if settings is not None:
        extensions.append(OperationMetrics)
        extensions.extend(tracing_extensions(settings))
        extensions.extend(graphql_limits(settings))
        if not settings.introspection_enabled:
            extensions.append(DisableIntrospection)
            extensions.append(lambda: AddValidationRules([NoFederationSdl]))
        if production:
            extensions.append(MaskUnexpectedErrors)
        safelist = load_manifest(settings.safelist_file) if settings.safelist_file else None
        store = PersistedQueryStore(settings.persisted_queries, safelist)
        extensions.append(lambda: PersistedQueries(store=store))  # last: see its docstring
    return FederatedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Contact, Activity, Order, Job, ActivityReport],
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
        # Queries run on a compiled plan when they can (app/compiled), else graphql-core's executor.
        execution_context_class=CompiledExecutor if compiled else None,
        # Factories: a fresh extension per request; the parser and validation caches are shared.
        extensions=extensions,
    )


schema = build_schema()


def schema_sdl() -> str:
    """The subgraph SDL (schema.graphql): what Apollo Federation composes (``@link``,
    ``@key``), followed by the definitions of the federation directives and scalars it
    applies, as the federation spec gives them, so that the file also loads on its own in
    graphql-core's ``build_schema`` and the tools built on graphql-js."""
    subgraph = schema.as_str()
    defined = {d.name.value for d in parse(subgraph).definitions if isinstance(d, _NAMED)}
    federation = [
        print_ast(d)
        for d in parse(client_sdl()).definitions
        if isinstance(d, _NAMED) and d.name.value not in defined
    ]
    return (
        f"{subgraph}\n\n# Federation's own definitions, for tools that load this file alone\n\n"
        + "\n\n".join(federation)
        + "\n"
    )


_NAMED = (DirectiveDefinitionNode, TypeDefinitionNode)


def client_sdl() -> str:
    """The same schema self-contained (schema.client.graphql): the federation directives and
    scalars are defined in it, so that graphql-core's ``build_schema``, graphql-js'
    ``buildSchema``, codegen, relay-compiler and graphql-inspector load it as it is."""
    return print_schema(schema._schema) + "\n"
