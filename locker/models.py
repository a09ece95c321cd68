"""The per-dispute tables (SQLModel). The DDL that creates them lives in migrations.py;
``tests/test_migrations.py`` checks that the two agree.

Money is exact decimal text, times are ISO 8601 text with an offset: a SQLModel
``Decimal`` would land in SQLite as REAL and lose digits.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"

    id: str = Field(primary_key=True)
    slug: str
    title: str
    platform: Optional[str] = None
    merchant: Optional[str] = None
    merchant_address: Optional[str] = None
    order_id: Optional[str] = None
    item: Optional[str] = None
    amount: Optional[str] = None  # exact decimal text, "199.00"
    currency: str = "CNY"
    purchased_on: Optional[str] = None  # YYYY-MM-DD
    claim: Optional[str] = None
    summary: Optional[str] = None
    status: str = "open"
    created_at: str
    updated_at: str


class Exhibit(SQLModel, table=True):
    __tablename__ = "exhibit"

    number: int = Field(primary_key=True)
    sha256: str = Field(index=True)
    size: int
    mime: str
    kind: str
    original_name: str
    title: Optional[str] = None
    source: Optional[str] = None
    purpose: Optional[str] = None
    note: Optional[str] = None
    captured_at: Optional[str] = None
    captured_at_source: Optional[str] = None
    ingested_at: str
    # "metadata" is taken by SQLModel itself, hence the attribute name.
    meta: str = Field(default="{}", sa_column=Column("metadata", Text, nullable=False, default="{}"))
    warnings: str = "[]"
    withdrawn: bool = False
    withdrawn_reason: Optional[str] = None


class ChatMessage(SQLModel, table=True):
    __tablename__ = "chat_message"

    id: Optional[int] = Field(default=None, primary_key=True)
    exhibit: int = Field(foreign_key="exhibit.number")
    position: int
    at: Optional[str] = None
    sender: Optional[str] = None
    text: str
    me: bool = False
    kind: str = "message"  # message | media | service | unparsed
    source: str = "export"  # export (parsed from a chat export) | ocr (read from a screenshot)


class OcrFacts(SQLModel, table=True):
    """The order facts OCR read from one exhibit (m008); ``facts`` is a JSON list of
    ``{"name", "value", "text", "box", "score"}``."""

    __tablename__ = "ocr_facts"

    exhibit: int = Field(primary_key=True, foreign_key="exhibit.number")
    engine: str
    page: Optional[str] = None
    platform: Optional[str] = None
    facts: str = "[]"
    read_at: str


class Event(SQLModel, table=True):
    __tablename__ = "event"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: str
    type: str = "note"
    description: str
    exhibits: str = "[]"  # JSON list of exhibit numbers
    created_at: str


class CustodyEntry(SQLModel, table=True):
    __tablename__ = "custody"

    seq: int = Field(primary_key=True)
    v: int
    at: str
    actor: str
    action: str
    payload: str  # canonical JSON
    prev_hash: str
    hash: str


class Export(SQLModel, table=True):
    __tablename__ = "export"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: str
    path: str
    sha256: str
    pages: int
    lang: str
    exhibits: str = "[]"


class Deadline(SQLModel, table=True):
    __tablename__ = "deadline"

    id: Optional[int] = Field(default=None, primary_key=True)
    due: str  # ISO 8601 with an offset; a date-only deadline is the end of that day (23:59:59)
    date_only: bool = False
    text: str
    exhibits: str = "[]"  # JSON list of exhibit numbers
    created_at: str
    done_at: Optional[str] = None
