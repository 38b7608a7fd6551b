"""Payment API state: allocations, debit notes and invoices with their event queues."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from devnets.feed import Feed
from devnets.golem.http import ApiError, iso, now
from devnets.golem.pricing import amount_text
from devnets.golem.settings import GolemDevnetSettings

EVENT_CAPACITY = 100_000
DocumentStatus = Literal[
    "ISSUED", "RECEIVED", "ACCEPTED", "REJECTED", "FAILED", "SETTLED", "CANCELLED"
]


@dataclass
class Allocation:
    """Budget reserved for paying providers; `spent` follows accepted documents."""

    allocation_id: str
    total: Decimal
    platform: str
    address: str
    timeout: str | None
    make_deposit: bool
    accepted: dict[str, Decimal] = field(default_factory=dict)  # agreement id -> amount
    timestamp: datetime = field(default_factory=now)

    @property
    def spent(self) -> Decimal:
        """Sum of the latest accepted amount per agreement."""
        return sum(self.accepted.values(), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        """ya-client's Allocation."""
        return {
            "allocationId": self.allocation_id,
            "address": self.address,
            "paymentPlatform": self.platform,
            "totalAmount": amount_text(self.total),
            "spentAmount": amount_text(self.spent),
            "remainingAmount": amount_text(self.total - self.spent),
            "timestamp": iso(self.timestamp),
            "timeout": self.timeout,
            "makeDeposit": self.make_deposit,
            "deposit": None,
        }


@dataclass
class DebitNote:
    """A provider's cumulative bill for an activity so far."""

    debit_note_id: str
    agreement_id: str
    activity_id: str
    issuer_id: str
    total_due: Decimal
    usage: list[float]
    previous_id: str | None
    platform: str
    payer: str
    status: DocumentStatus = "RECEIVED"
    timestamp: datetime = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        """ya-client's DebitNote."""
        return {
            "debitNoteId": self.debit_note_id,
            "issuerId": self.issuer_id,
            "recipientId": self.payer,
            "payeeAddr": self.issuer_id,
            "payerAddr": self.payer,
            "paymentPlatform": self.platform,
            "previousDebitNoteId": self.previous_id,
            "timestamp": iso(self.timestamp),
            "agreementId": self.agreement_id,
            "activityId": self.activity_id,
            "totalAmountDue": amount_text(self.total_due),
            "usageCounterVector": self.usage,
            "paymentDueDate": None,
            "status": self.status,
        }


@dataclass
class Invoice:
    """The provider's final bill for an agreement."""

    invoice_id: str
    agreement_id: str
    activity_ids: list[str]
    issuer_id: str
    amount: Decimal
    platform: str
    payer: str
    status: DocumentStatus = "RECEIVED"
    timestamp: datetime = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        """ya-client's Invoice."""
        return {
            "invoiceId": self.invoice_id,
            "issuerId": self.issuer_id,
            "recipientId": self.payer,
            "payeeAddr": self.issuer_id,
            "payerAddr": self.payer,
            "paymentPlatform": self.platform,
            "timestamp": iso(self.timestamp),
            "agreementId": self.agreement_id,
            "activityIds": self.activity_ids,
            "amount": amount_text(self.amount),
            "paymentDueDate": iso(self.timestamp),
            "status": self.status,
        }


class Payments:
    """Allocations, debit notes, invoices and their event feeds."""

    def __init__(self, settings: GolemDevnetSettings) -> None:
        self.settings = settings
        self.allocations: dict[str, Allocation] = {}
        self.debit_notes: dict[str, DebitNote] = {}
        self.invoices: dict[str, Invoice] = {}
        self.debit_note_events: Feed[dict[str, Any]] = Feed(EVENT_CAPACITY)
        self.invoice_events: Feed[dict[str, Any]] = Feed(EVENT_CAPACITY)
        self._last_note: dict[str, str] = {}  # activity id -> latest debit note id

    # --- allocations -------------------------------------------------------------------------

    def allocate(self, body: dict[str, Any]) -> Allocation:
        """Reserve budget; 400 when the account cannot cover it."""
        total = parse_amount(body.get("totalAmount"), "totalAmount")
        platform = str(body.get("paymentPlatform") or self.settings.payment_platform)
        if platform != self.settings.payment_platform:
            raise ApiError(400, f"Payment platform {platform} is not initialized")
        reserved = sum((a.total for a in self.allocations.values()), Decimal(0))
        if reserved + total > self.settings.balance_glm:
            raise ApiError(
                400,
                "Insufficient funds to make allocation. Top up your account or release "
                "all existing allocations to unlock the funds.",
            )
        timeout = body.get("timeout")
        allocation = Allocation(
            secrets.token_hex(16),
            total,
            platform,
            str(body.get("address") or self.settings.requestor_address),
            str(timeout) if timeout is not None else None,
            bool(body.get("makeDeposit", False)),
        )
        self.allocations[allocation.allocation_id] = allocation
        return allocation

    def allocation(self, allocation_id: str) -> Allocation:
        """An allocation by id, or 404."""
        found = self.allocations.get(allocation_id)
        if found is None:
            raise ApiError(404, f"Allocation {allocation_id} not found")
        return found

    def release(self, allocation_id: str) -> None:
        """Free an allocation."""
        self.allocation(allocation_id)
        del self.allocations[allocation_id]

    def decorations(self, allocation_ids: list[str]) -> dict[str, Any]:
        """Demand properties/constraints that tell providers how we pay."""
        for allocation_id in allocation_ids:
            self.allocation(allocation_id)
        platform = self.settings.payment_platform
        properties = [
            {
                "key": f"golem.com.payment.platform.{platform}.address",
                "value": self.settings.requestor_address,
            },
            {"key": "golem.com.payment.protocol.version", "value": "3"},
        ]
        return {
            "properties": properties,
            "constraints": [f"(golem.com.payment.platform.{platform}.address=*)"],
        }

    # --- documents ---------------------------------------------------------------------------

    def issue_debit_note(
        self, agreement_id: str, activity_id: str, issuer: str, due: Decimal, usage: list[float]
    ) -> DebitNote:
        """A provider sends a cumulative debit note."""
        note = DebitNote(
            secrets.token_hex(16),
            agreement_id,
            activity_id,
            issuer,
            due,
            usage,
            self._last_note.get(activity_id),
            self.settings.payment_platform,
            self.settings.requestor_address,
        )
        self.debit_notes[note.debit_note_id] = note
        self._last_note[activity_id] = note.debit_note_id
        self.debit_note_events.append(_event("DebitNoteReceivedEvent", "debitNoteId", note))
        return note

    def issue_invoice(
        self, agreement_id: str, activity_ids: list[str], issuer: str, amount: Decimal
    ) -> Invoice:
        """A provider sends the final invoice of an agreement."""
        invoice = Invoice(
            secrets.token_hex(16),
            agreement_id,
            activity_ids,
            issuer,
            amount,
            self.settings.payment_platform,
            self.settings.requestor_address,
        )
        self.invoices[invoice.invoice_id] = invoice
        self.invoice_events.append(_event("InvoiceReceivedEvent", "invoiceId", invoice))
        return invoice

    def debit_note(self, debit_note_id: str) -> DebitNote:
        """A debit note by id, or 404."""
        found = self.debit_notes.get(debit_note_id)
        if found is None:
            raise ApiError(404, f"Debit note {debit_note_id} not found")
        return found

    def invoice(self, invoice_id: str) -> Invoice:
        """An invoice by id, or 404."""
        found = self.invoices.get(invoice_id)
        if found is None:
            raise ApiError(404, f"Invoice {invoice_id} not found")
        return found

    def accept(self, document: DebitNote | Invoice, body: dict[str, Any]) -> None:
        """Accept a debit note or invoice in full against an allocation."""
        amount = parse_amount(body.get("totalAmountAccepted"), "totalAmountAccepted")
        due = document.total_due if isinstance(document, DebitNote) else document.amount
        if amount != due:
            raise ApiError(400, f"totalAmountAccepted {amount} must equal the amount due {due}")
        allocation = self.allocation(str(body.get("allocationId")))
        previous = allocation.accepted.get(document.agreement_id, Decimal(0))
        if allocation.spent - previous + amount > allocation.total:
            raise ApiError(400, f"Allocation {allocation.allocation_id} has not enough funds")
        allocation.accepted[document.agreement_id] = max(previous, amount)
        document.status = "ACCEPTED"


def parse_amount(value: Any, name: str) -> Decimal:
    """A non-negative decimal amount (string or number), or a 400."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, f"{name} must be a decimal amount, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ApiError(400, f"{name} must be a non-negative amount")
    return amount


def _event(kind: str, key: str, document: DebitNote | Invoice) -> dict[str, Any]:
    doc_id = document.debit_note_id if isinstance(document, DebitNote) else document.invoice_id
    return {"eventType": kind, "eventDate": iso(now()), key: doc_id}
