"""eventRecord and eventsRecord: thin resolvers over activities.record."""

from __future__ import annotations

import strawberry

from app.auth import Principal, ScopeName, requires
from app.context import Info
from app.graphql_errors import Payload, UserError, user_errors_in
from app.inputs import copy_into
from app.scalars import DateTime, Properties

from .messages import MessageData, record_message
from .record import EventData, EventResult, record_events
from .types import Activity, Message

WRITE = [requires(ScopeName.ACTIVITIES_WRITE)]
SYSTEM = [requires(ScopeName.ACTIVITIES_SYSTEM)]


@strawberry.input(
    description='A contact named by an identifier key and value, e.g. {key: "email", value: "a@b.com"}.'
)
class IdentifierInput:
    key: str = strawberry.field(description="An identifier key: email, sms, cID or a secondary key.")
    value: str = strawberry.field(description="Its value.")


@strawberry.input(
    description="An event of a contact. Name the contact with `contact` (a ref) or `identifier`."
)
class EventInput:
    contact: str | None = strawberry.field(default=None, description="The contact, by any ref.")
    identifier: IdentifierInput | None = strawberry.field(
        default=None, description="The contact, by an identifier key and value."
    )
    action: str | None = strawberry.field(
        default=None, description="1-40 characters; reserved actions need the activities:system scope."
    )
    ats: DateTime | None = strawberry.field(default=None, description="When it happened; defaults to now.")
    properties: Properties | None = strawberry.field(
        default=None, description="The event's properties (at most 1,000 keys)."
    )
    mc_id: str | None = strawberry.field(
        description="The message contact id, for message activities.", default=None, name="mcID"
    )
    channel: str | None = strawberry.field(default=None, description="The channel it happened on.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Recording the same key again stores nothing and returns the first activity.",
    )

    def to_data(self) -> EventData:
        identifier = (self.identifier.key, self.identifier.value) if self.identifier else None
        return copy_into(EventData, self, identifier=identifier)


@strawberry.type(description="The result of eventRecord.")
class EventRecordPayload(Payload):
    activity: Activity | None = strawberry.field(
        default=None, description="The activity stored (or the first one, when deduplicated)."
    )
    deduplicated: bool = strawberry.field(
        default=False, description="True when the idempotencyKey was seen before."
    )
    stripped_keys: list[str] = strawberry.field(
        default_factory=list, description="Property keys that were dropped."
    )

    @classmethod
    def of(cls, result: EventResult) -> EventRecordPayload:
        return cls(
            activity=Activity.from_doc(result.activity) if result.activity else None,
            deduplicated=result.deduplicated,
            stripped_keys=result.stripped_keys,
            user_errors=[UserError.from_problem(p) for p in result.problems],
        )


@strawberry.type(description="The outcome of one event of an eventsRecord call.")
class EventRecordResult(EventRecordPayload):
    index: int = strawberry.field(default=0, description="The event's index in the inputs.")


@strawberry.input(description="A message (campaign) of the messaging pipeline, upserted by id.")
class MessageInput:
    id: str = strawberry.field(description="The message's ObjectId, as in its mcIDs ('252:<id>:ot:<cID>:1').")
    name: str = strawberry.field(description="The campaign name activities show: 1-200 characters.")
    channel: str | None = strawberry.field(default=None, description="email, sms, push...")
    sent_at: DateTime | None = strawberry.field(default=None, description="When the message went out.")


@strawberry.type(description="The message as stored after messageRecord.")
class MessageRecordPayload(Payload):
    message: Message | None = strawberry.field(
        default=None, description="The message as stored; null on failure."
    )


@strawberry.type(description="The result of eventsRecord: one result per event, and counts.")
class EventsRecordPayload:
    results: list[EventRecordResult] = strawberry.field(
        description="One per input event, in order.", default_factory=list
    )
    recorded_count: int = strawberry.field(default=0, description="Events stored.")
    deduplicated_count: int = strawberry.field(
        default=0, description="Events whose idempotencyKey was seen before."
    )
    failed_count: int = strawberry.field(default=0, description="Events refused (see their userErrors).")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Errors of the whole call."
    )


def _system(info: Info) -> bool:
    principal: Principal = info.context.principal
    return principal.allows(ScopeName.ACTIVITIES_SYSTEM)


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(
        description="Name a message (campaign) for Activity.message: create or update it by id "
        "(activities:system, the messaging pipeline's scope).",
        permission_classes=SYSTEM,
    )
    @user_errors_in(MessageRecordPayload)
    async def message_record(self, info: Info, input: MessageInput) -> MessageRecordPayload:
        ctx = info.context
        data = MessageData(id=input.id, name=input.name, channel=input.channel, sent_at=input.sent_at)
        doc = await record_message(ctx.tenant, data)
        return MessageRecordPayload(message=Message.from_doc(doc))

    @strawberry.mutation(description="Record one event of a contact.", permission_classes=WRITE)
    async def event_record(self, info: Info, input: EventInput) -> EventRecordPayload:
        ctx = info.context
        [result] = await record_events(
            ctx.tenant,
            await ctx.identifier_keys(),
            [input.to_data()],
            system=_system(info),
            batch=False,
        )
        return EventRecordPayload.of(result)

    @strawberry.mutation(
        description="Record up to 10,000 events, each validated on its own; the valid ones are stored in "
        "bulk.",
        permission_classes=WRITE,
    )
    @user_errors_in(EventsRecordPayload)
    async def events_record(self, info: Info, inputs: list[EventInput]) -> EventsRecordPayload:
        ctx = info.context
        results = await record_events(
            ctx.tenant,
            await ctx.identifier_keys(),
            [i.to_data() for i in inputs],
            system=_system(info),
        )
        items = []
        for r in results:
            base = EventRecordPayload.of(r)
            items.append(
                EventRecordResult(
                    index=r.index,
                    activity=base.activity,
                    deduplicated=base.deduplicated,
                    stripped_keys=base.stripped_keys,
                    user_errors=base.user_errors,
                )
            )
        return EventsRecordPayload(
            results=items,
            recorded_count=sum(1 for r in results if r.activity is not None and not r.deduplicated),
            deduplicated_count=sum(1 for r in results if r.deduplicated),
            failed_count=sum(1 for r in results if r.problems),
        )
