"""GraphQL inputs of jobs and activity reports, and the Relay-id check their resolvers share."""

from __future__ import annotations

from enum import Enum

import strawberry
from bson import ObjectId
from strawberry import relay

from app.contacts.inputs import ContactInput
from app.db import object_id
from app.errors import ErrorCode
from app.graphql_errors import InputError
from app.inputs import copy_into
from app.scalars import JSON, DateTimeOrTimestamp

from .destinations import DestinationData
from .listing import JobFilter
from .types import JobKind, JobState


def own_id(global_id: relay.GlobalID, type_name: str, argument: str = "id") -> ObjectId | None:
    """The ObjectId inside a Relay id of ``type_name`` (None when malformed); an id of
    another type is a VALIDATION_ERROR on ``argument``."""
    if global_id.type_name != type_name:
        raise InputError(
            ErrorCode.VALIDATION_ERROR, f"'{argument}' is not the id of a {type_name}", (argument,)
        )
    return object_id(global_id.node_id)


@strawberry.input(description="Which jobs: by kind and state.")
class JobWhere:
    kind: JobKind | None = strawberry.field(default=None, description="Jobs of this kind.")
    state: JobState | None = strawberry.field(default=None, description="Jobs in this state.")

    def to_filter(self) -> JobFilter:
        return JobFilter(self.kind.value if self.kind else None, self.state.value if self.state else None)


@strawberry.enum(description="What an import does with rows that fail.")
class ImportErrorPolicy(Enum):
    SKIP_FAILED_ROWS = "SKIP_FAILED_ROWS"
    REJECT_ALL = "REJECT_ALL"


@strawberry.input(
    description="Contacts to import: inline (`contacts`) or as CSV text with a header row (`csv`)."
)
class ContactsImportInput:
    contacts: list[ContactInput] | None = strawberry.field(default=None, description="The contacts, inline.")
    csv: str | None = strawberry.field(
        default=None,
        description="Columns: email, sms, subscribeStatus, lists (keys separated by ';') and attribute keys "
        "('location.city' for geo sub-fields, ';' between array items).",
    )
    source_file_name: str | None = strawberry.field(
        default=None, description="Shown on the job (Job.sourceFileName)."
    )
    lists: list[str] = strawberry.field(
        default_factory=list, description="Add every imported contact to these."
    )
    error_policy: ImportErrorPolicy = strawberry.field(
        default=ImportErrorPolicy.SKIP_FAILED_ROWS,
        description="Skip the failing rows, or import nothing if one fails.",
    )


@strawberry.enum(description="Where a profile export goes (Cordial's destination types).")
class ExportDestinationType(Enum):
    AWS = strawberry.enum_value(
        "aws", description="Kept downloadable from the job's resultUrl (the default)."
    )
    FTP = strawberry.enum_value("ftp", description="Uploaded to an FTP server.")
    SFTP = strawberry.enum_value("sftp", description="Uploaded to an SFTP server.")


@strawberry.input(
    description="Cordial's destination: FTP and SFTP need server, port, username, path and a password "
    "(SFTP: or a private key). Credentials are sealed until the upload and never shown again."
)
class ExportDestinationInput:
    type: ExportDestinationType = strawberry.field(
        default=ExportDestinationType.AWS, description="AWS (downloadable), FTP or SFTP."
    )
    server: str | None = strawberry.field(default=None, description="Domain or IP address.")
    port: int | None = strawberry.field(default=None, description="21 for FTP, 22 for SFTP, usually.")
    username: str | None = strawberry.field(default=None, description="The FTP/SFTP user.")
    password: str | None = strawberry.field(
        default=None, description="The FTP/SFTP password; sealed until the upload, never shown."
    )
    key: str | None = strawberry.field(
        default=None, description="SFTP: an unencrypted private key (OpenSSH or PEM) instead of a password."
    )
    path: str | None = strawberry.field(default=None, description="The folder the JSON file is written to.")
    host_key: str | None = strawberry.field(
        default=None,
        description="SFTP: the server's public host key ('ssh-ed25519 AAAA...'); given, the connection "
        "is refused unless it matches.",
    )

    def to_data(self) -> DestinationData:
        return copy_into(DestinationData, self, type=str(self.type.value))


@strawberry.input(
    description="One report criterion (Ongage): operands are ORed; `condition` joins it to the previous."
)
class ReportCriterionInput:
    field_name: str | None = strawberry.field(
        default=None, description="A system field, an attribute key, a behavior or 'segment'."
    )
    type: str = strawberry.field(
        description="string, numeric, email, date, id, list, behavioral or segment (operands: audience keys)"
    )
    operator: str = strawberry.field(
        description="=, !=, LIKE, NOT LIKE, LIKE_, _LIKE, empty, notempty, <, <=, >, >=, ><"
    )
    operand: JSON | None = strawberry.field(
        default=None, description="A list of values (behavioral: message ids)."
    )
    case_sensitive: bool = strawberry.field(default=False, description="Strings: compare case-sensitively.")
    condition: str = strawberry.field(
        default="and", description="'and' or 'or': how it joins the previous criterion."
    )


@strawberry.input(description="Which contacts a report selects and its time window.")
class ReportFiltersInput:
    criteria: list[ReportCriterionInput] = strawberry.field(
        description="Criteria folded left to right by their condition.", default_factory=list
    )
    user_type: str = strawberry.field(default="all", description="all, active, unsubscribed or bounced")
    from_date: DateTimeOrTimestamp | None = strawberry.field(
        default=None, description="Activities from this instant (ISO 8601 or a Unix timestamp)."
    )
    to_date: DateTimeOrTimestamp | None = strawberry.field(
        default=None, description="Activities up to this instant (ISO 8601 or a Unix timestamp)."
    )


@strawberry.input(description="An Ongage contact activity report: title, filters and fields.")
class ActivityReportCreateInput:
    title: str = strawberry.field(description="1-200 characters.")
    favorite: bool = strawberry.field(default=False, description="Mark it as a favourite.")
    filters: ReportFiltersInput = strawberry.field(description="Which contacts and which time window.")
    selected_fields: list[str] = strawberry.field(
        description="System, attribute and aggregation fields, in CSV order."
    )
    include_behavior: bool = strawberry.field(default=False, description="Detailed CSV: custom events too.")
    combined_as_and: bool = strawberry.field(
        default=False,
        description="Join every criterion with 'and', whatever its own condition (Ongage's combined_as_and).",
    )


@strawberry.enum(description="Order of activity reports.")
class ActivityReportSort(Enum):
    CREATED_AT_DESC = "createdAt:desc"
    CREATED_AT_ASC = "createdAt:asc"
    TITLE_ASC = "title:asc"
    TITLE_DESC = "title:desc"
