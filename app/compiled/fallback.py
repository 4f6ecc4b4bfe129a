"""The fallback: graphql-core's executor answers a request the compiled run could not,
replaying what that run already read.

Every resolver call of a compiled run is recorded: its field (by the field node, which the
parser cache and graphql-core's field collection share between both executors), its
source object, and its outcome (the value, or the exception it raised). When the run is
abandoned, graphql-core executes the operation with the ``Memo`` as middleware around
every resolver (graphql-core calls its ``resolve``): a call recorded before gets the
recorded outcome again, without calling the resolver, so the re-run sends no database
command the compiled run sent, and cannot reach another outcome (a transient error stays
an error). graphql-core then builds the errors, the null propagation and the partial data
exactly as it always does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo


class Memo:
    """Resolver outcomes of one compiled run, by (field node, source object)."""

    __slots__ = ("outcomes",)

    def __init__(self) -> None:
        # (id(field node), id(source)) -> (source, succeeded, value or error). The source is
        # kept with the outcome: its id is only compared while it is alive. Values are written
        # in line by the runner and its generated code (one per resolver call); errors here.
        self.outcomes: dict[tuple[int, int], tuple[Any, bool, Any]] = {}

    def error(self, node: Any, source: Any, error: BaseException) -> None:
        self.outcomes[(id(node), id(source))] = (source, False, error)

    def resolve(
        self, resolve: Callable[..., Any], source: Any, info: GraphQLResolveInfo[Any], **args: Any
    ) -> Any:
        """graphql-core middleware: the recorded outcome if there is one, else the resolver."""
        found = self.outcomes.get((id(info.field_nodes[0]), id(source)))
        if found is None or found[0] is not source:
            return resolve(source, info, **args)
        if found[1]:
            return found[2]
        raise found[2]
