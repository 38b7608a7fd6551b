"""One attempt of one delivery: open the secret, sign, send, record."""

from __future__ import annotations

from contracts.timefmt import utcnow
from cortex_notifier.adapters.deliveries import AttemptResult, Claim
from cortex_notifier.adapters.sender import Sender
from cortex_notifier.domain.model import Outcome
from cortex_notifier.service_layer.recorder import Recorder
from runtime.logging import get_logger
from runtime.secretbox import SecretBox, SecretBoxError

log = get_logger(__name__)


class Attempter:
    def __init__(self, recorder: Recorder, box: SecretBox, sender: Sender) -> None:
        self._recorder, self._box, self._sender = recorder, box, sender

    async def run(self, claim: Claim, manual: bool = False) -> Outcome:
        """Send `claim`'s fixed body once and record the attempt; returns what happened."""
        at = utcnow()
        try:
            secret = self._box.open(claim.secret_sealed)
        except SecretBoxError:
            # Not sent unsigned: the key changed; retried per schedule in case it comes back.
            outcome = Outcome(False, None, 0, "the webhook secret cannot be decrypted")
        else:
            # The event id is the Standard Webhooks message id: the same on every attempt.
            outcome = await self._sender.send(
                claim.url, secret, claim.event_id, claim.event_type, claim.body, claim.id
            )
        await self._recorder.record(AttemptResult(claim.id, at, outcome, manual))
        log.debug(
            "delivery.attempted",
            delivery_id=claim.id,
            webhook_id=claim.webhook_id,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=outcome.error,
        )
        return outcome
