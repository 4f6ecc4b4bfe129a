"""GraphQL types of the consent history (app.contacts.consent): one entry per change of a
channel's subscribeStatus or invalid flag, paged oldest first."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry import relay

from app.connection import Connection, doc_field
from app.db import Document
from app.pagination import SortKey, page_of_list
from app.scalars import DateTime

from .status import SubscribeStatus, subscribe_status

HISTORY_ORDER = SortKey("at", descending=False)


@strawberry.enum(description="What made a consent change.")
class ConsentSourceKind(Enum):
    MUTATION = strawberry.enum_value("mutation", description="An API mutation (`operation` names it).")
    IMPORT = strawberry.enum_value("import", description="A contactsImport job (`jobId`).")
    MERGE = strawberry.enum_value("merge", description="contactMerge.")
    SEED = strawberry.enum_value("seed", description="The demo seed.")


@strawberry.type(description="A channel's consent state: its subscribeStatus and invalid flag.")
class ChannelConsent:
    subscribe_status: SubscribeStatus = strawberry.field(description="The channel's subscription status.")
    invalid: bool = strawberry.field(description="True after a hard bounce.")


@strawberry.type(description="Who or what made a consent change.")
class ConsentChangeSource:
    kind: ConsentSourceKind = strawberry.field(description="Mutation, import, merge or seed.")
    operation: str | None = strawberry.field(description="The mutation or job kind, e.g. contactUpdate.")
    job_id: strawberry.ID | None = strawberry.field(description="The import job (a Job id), for kind IMPORT.")
    api_key: str | None = strawberry.field(description="The name of the API key that asked.")


@strawberry.type(description="One change of a channel's subscribeStatus or invalid flag.")
class ConsentChange:
    doc: strawberry.Private[Document]

    at = doc_field("at", DateTime, description="When it changed.", required=True)

    @strawberry.field(name="from", description="Before; null when the channel appeared.")
    def from_(self) -> ChannelConsent | None:
        return _consent(self.doc.get("from"))

    @strawberry.field(description="After; null when the channel was removed.")
    def to(self) -> ChannelConsent | None:
        return _consent(self.doc.get("to"))

    @strawberry.field(description="What made the change.")
    def source(self) -> ConsentChangeSource:
        source = self.doc.get("source") or {}
        try:
            kind = ConsentSourceKind(source.get("kind", "mutation"))
        except ValueError:
            kind = ConsentSourceKind.MUTATION
        job = source.get("jobId")
        return ConsentChangeSource(
            kind=kind,
            operation=source.get("operation"),
            job_id=strawberry.ID(relay.to_base64("Job", job)) if job else None,
            api_key=source.get("apiKey"),
        )

    mc_id = doc_field(
        "mcID", str | None, name="mcID", description="The message an unsubscribe was attributed to."
    )

    forced = doc_field(
        "forced",
        bool,
        description="True when forceSubscribe turned an unsubscribed channel subscribed.",
        convert=bool,
    )

    merged = doc_field(
        "merged",
        bool,
        description="True for an entry of a contact merged into this one (see mergedFrom).",
        convert=bool,
    )

    merged_from = doc_field(
        "mergedFrom",
        str | None,
        name="mergedFrom",
        description="The cID of the merged contact the entry came from.",
    )


def _consent(state: Document | None) -> ChannelConsent | None:
    if state is None:
        return None
    status = subscribe_status(state.get("subscribeStatus"))
    return ChannelConsent(subscribe_status=status, invalid=bool(state.get("invalid")))


def history_connection(
    entries: list[Document], first: int | None, after: str | None
) -> Connection[ConsentChange]:
    page = page_of_list(entries, HISTORY_ORDER, first, after)
    return Connection[ConsentChange].build(page, lambda doc: ConsentChange(doc=doc), len(entries))
