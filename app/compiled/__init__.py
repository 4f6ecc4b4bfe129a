"""Compiled execution of queries: a planned operation run without per-field dispatch.

What it does. graphql-core completes every field of every object through the same general
machinery (a resolve info, a path, an awaitable check and a type dispatch per field), and
strawberry adds argument conversion and an ``Info`` to each resolver call. A 50-contact
page is about 6,000 fields, and that per-field work, not the database, is where a read
spends its CPU. ``CompiledExecutor`` plans a query once per document (``planner``: fields
collected as graphql-core collects them, each field's way to its value chosen up front,
each object type's selection generated as one Python function) and runs the plan
(``runner``): plain fields are read in line, resolvers are called directly, and each
branch goes on as soon as its own values are ready.

What it promises.

* The same response as graphql-core's executor, always: the compiled run answers only
  when the whole operation succeeds. Anything else (an exception, a null in a non-null
  position, a refused permission) abandons it, and graphql-core's executor answers,
  replaying every resolver outcome the compiled run recorded (``fallback``): the errors,
  null propagation and partial data are graphql-core's own, no read runs twice, and a
  transient error cannot turn into data.
* The same database commands or fewer: DataLoaders batch per level as under graphql-core.
* Latency is the critical path: no branch waits for an unrelated slow one.
* Resolvers get a real ``info.path`` (with list indexes); async permissions are awaited
  (such fields run through strawberry's own resolver wrapper).

What it does not compile (graphql-core's executor runs these, counted as ``standard``):
mutations, subscriptions, introspection, abstract types (``node``, ``_entities``),
``@defer``/``@stream``, fragment arguments and resolver middleware (OTel tracing).

What else it tells. A context with a ``rendered_objects`` attribute gets ``(data, n)``:
the data a compiled run answered and the objects it holds (the query cost's actual,
counted while building it instead of walking the response again).

How to turn it off: ``CONTACTGRAPH_COMPILED_EXECUTION=false``. ``/metrics`` counts
executions by path: ``contactgraph_graphql_executions_total{path=compiled|fallback|standard}``.

It relies on graphql-core's ``ExecutionContext`` hooks (``execute_collected_root_fields``,
``build_resolve_info``, ``collect_subfields``) and strawberry's field internals
(``base_resolver``, ``PermissionExtension``): the versions it was tested with are pinned as
ranges in pyproject.toml, and tests/compiled/test_differential.py compares it with graphql-core's
executor on every run of the suite. Nothing outside this package imports more than
``CompiledExecutor`` and ``ItemRead`` (a resolver method's declaration that it returns a key
of one of its object's attributes, e.g. ``self.doc["action"]``, which plans then read in
line; ``app.connection.doc_field`` declares it).
"""

from .planner import ItemRead
from .runner import CompiledExecutor

__all__ = ["CompiledExecutor", "ItemRead"]
