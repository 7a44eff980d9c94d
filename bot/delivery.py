"""The digest dispatcher: finds due subscriptions in the database and delivers each slot once.

The database is the source of truth for what is due (an indexed next-due time per
subscription), so one periodic job serves any number of subscriptions and nothing is lost on
restart. Every slot is claimed in the ledger before anything is sent:

- two dispatchers racing meet at the ledger's unique (subscription, slot) key, and one backs off;
- a slot left 'sending' by a process that died is taken back after a lease and sent with the
  articles recorded at claim time, so the chat gets the digest it would have got;
- a slot missed while the bot was down is sent once if it is within the grace window, and older
  ones are recorded as skipped;
- a digest of several messages that stopped part way (a long flood wait, an outage) is retried
  from its first undelivered message: the ledger keeps the ids of those already delivered.

The one window no ledger can close is a crash after the platform accepted a message and before
the ledger recorded it: that slot is sent again after the lease (at least once, never zero).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest import Digest, build_digest, item_lines
from bot.model import Article, ChatRef, Delivery, DeliveryStatus, Source, Subscription
from bot.outbox import Messenger, Outcome, SendResult
from bot.reply import Heading, Notice, Part, Reply
from bot.schedule import next_due
from storage.repository import Repository, SlotPlan

log = logging.getLogger(__name__)

MAX_SKIPPED_RECORDED = 50  # after a long outage, record only the most recent missed slots
EMPTY = Digest((), {}, 0)


@dataclass(frozen=True)
class DeliveryPolicy:
    grace: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 200  # planned and claimed in one transaction; small enough not to stall sending
    concurrency: int = 64
    retry_delays: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))


@dataclass
class TickReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    gone: int = 0
    errors: list[str] = field(default_factory=list)


def slots_due(subscription: Subscription, now: datetime) -> list[datetime]:
    """Every scheduled slot from the stored next-due time up to now, oldest first."""
    assert subscription.next_due_at is not None
    slots = [subscription.next_due_at]
    while len(slots) < 10_000:
        following = next_due(subscription.schedule, slots[-1])
        if following > now:
            break
        slots.append(following)
    return slots


def digest_reply(subscription: Subscription, lines: Sequence[Part], slot: datetime) -> Reply:
    """The digest as the chat sees it: a heading in the chat's own time, then the story lines."""
    options = subscription.options
    local = slot.astimezone(ZoneInfo(subscription.schedule.timezone))
    heading = Heading(f"News digest · {local:%a %d %b %H:%M}")
    body = tuple(lines) or (Notice("Nothing new since the last digest."),)
    return Reply((heading, *body), silent=options.quiet, previews=options.previews)


class DigestDispatcher:
    def __init__(self, repo: Repository, messengers: Mapping[str, Messenger], clock: Callable[[], datetime],
                 policy: DeliveryPolicy = DeliveryPolicy()) -> None:
        self.repo = repo
        self.messengers = dict(messengers)
        self.clock = clock
        self.policy = policy
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._queued = asyncio.Semaphore(2 * policy.batch)
        self._digests: dict[tuple[object, ...], Digest] = {}
        self._lines: dict[tuple[int, ...], tuple[Part, ...]] = {}
        self._owners: set[str] = set()
        self._gone: dict[ChatRef, str] = {}  # found gone this tick: chat (or topic) -> why
        self._chat_turns: dict[tuple[str, str], asyncio.Lock] = {}

    async def tick(self) -> TickReport:
        """One pass: resume interrupted and retryable slots, then deliver everything due."""
        report = TickReport()
        now = self.clock()
        self._digests.clear()  # selections (and their lines) are shared within one tick only
        self._lines.clear()
        self._gone.clear()
        self._chat_turns.clear()
        self._owners = await self.repo.source_scopes()
        resumed = await self._unexpired(await self.repo.reclaim_deliveries(now, now - self.policy.lease,
                                                                           self.policy.batch), now, report)
        in_flight = {asyncio.create_task(self._guarded(partial(self._resume, delivery, report), report))
                     for delivery in resumed}
        platforms = tuple(self.messengers)
        # not planned this tick: a subscription whose older slot is being sent again (its next digest
        # starts where that one ends), or whose planning failed (once per tick is enough)
        held = {delivery.subscription_id for delivery in resumed}
        try:
            while due := await self.repo.due_subscriptions(now, self.policy.batch, platforms, tuple(held)):
                for subscription, delivery, digest in await self._claim_batch(due, now, report, held):
                    send = partial(self._send, subscription, delivery, digest.articles, digest.sources, report)
                    await self._queued.acquire()  # the next batch is planned while this one sends,
                    task = asyncio.create_task(self._guarded(send, report))  # at most a batch ahead
                    task.add_done_callback(lambda _: self._queued.release())
                    in_flight.add(task)
        except asyncio.CancelledError:  # the shutdown's deadline: stop sending; the stop releases the slots
            for task in in_flight:
                task.cancel()
            raise
        finally:  # sends already started finish (or stop), even when planning the next batch failed
            await asyncio.gather(*in_flight, return_exceptions=True)
        return report

    async def _claim_batch(self, due: Sequence[Subscription], now: datetime, report: TickReport,
                           held: set[int]) -> list[tuple[Subscription, Delivery, Digest]]:
        """Plan every due subscription, then claim (or skip) all their slots in one write."""
        planned = []
        for subscription in due:
            if (plan := await self._plan(subscription, now)) is None:
                held.add(subscription.id)
            else:
                planned.append(plan)
            await asyncio.sleep(0)  # sends already paced for now go out on time, not after the batch
        claimed = await self.repo.record_slots([plan for plan, _ in planned], now)
        won = []
        for (plan, digest), delivery in zip(planned, claimed, strict=True):
            report.skipped += len(plan.skipped) + (0 if plan.send else 1)
            if delivery is not None:
                won.append((plan.subscription, delivery, digest))
            elif plan.send:
                log.info("slot %s of subscription %s was claimed elsewhere", plan.slot_at, plan.subscription.id)
        return won

    async def _unexpired(self, deliveries: Sequence[Delivery], now: datetime, report: TickReport) -> list[Delivery]:
        """The slots to send again; those older than the grace window (the bot was down past their
        retries) are recorded as missed instead, and their stories go out in the next digest."""
        unexpired = []
        for delivery in deliveries:
            if now - delivery.slot_at <= self.policy.grace:
                unexpired.append(delivery)
                continue
            await self.repo.finish_delivery(delivery, DeliveryStatus.SKIPPED, now, message_ids=delivery.message_ids,
                                            error="missed: the bot was down")
            report.skipped += 1
        return unexpired

    async def _guarded(self, job: Callable[[], Awaitable[None]], report: TickReport) -> None:
        """One subscription's failure is logged and counted; it never stops the others."""
        try:
            await job()
        except Exception as exc:
            log.exception("digest delivery failed")
            report.errors.append(repr(exc))

    async def _plan(self, subscription: Subscription, now: datetime) -> tuple[SlotPlan, Digest] | None:
        """Which slot to send (with which articles) and which to record as skipped."""
        try:
            slots = slots_due(subscription, now)
            latest, older = slots[-1], tuple(slots[:-1][-MAX_SKIPPED_RECORDED:])
            following = next_due(subscription.schedule, now)
            if now - latest > self.policy.grace:
                return SlotPlan(subscription, latest, following, False, skipped=older,
                                reason="missed: the bot was down"), EMPTY
            digest = await self._digest_for(subscription)
        except Exception:
            log.exception("cannot plan the digest of subscription %s", subscription.id)
            return None
        if digest.empty and not subscription.options.announce_empty:
            return SlotPlan(subscription, latest, following, False, skipped=older, reason="nothing new"), digest
        return SlotPlan(subscription, latest, following, True, tuple(a.id for a in digest.articles), digest.cursor,
                        older, "missed: superseded by a later slot"), digest

    async def _digest_for(self, subscription: Subscription) -> Digest:
        """Chats that see the same sources, with the same options and cursor, get the same digest:
        in a fan-out most chats share one selection, so it is made once per tick."""
        scope = subscription.chat.scope
        key = (scope if scope in self._owners else "", subscription.options, subscription.last_article_id)
        if key not in self._digests:
            self._digests[key] = await build_digest(self.repo, scope, subscription.options,
                                                    subscription.last_article_id)
        return self._digests[key]

    async def _resume(self, delivery: Delivery, report: TickReport) -> None:
        subscription = await self.repo.get_subscription_by_id(delivery.subscription_id)
        if subscription is None or not subscription.enabled:
            await self.repo.finish_delivery(delivery, DeliveryStatus.FAILED, self.clock(),
                                            error="subscription ended")
            report.failed += 1
            return
        if subscription.chat.platform not in self.messengers:
            return
        articles = await self.repo.articles_by_id(delivery.article_ids)
        sources = await self.repo.sources_by_id({a.source_id for a in articles})
        log.info("resending slot %s of subscription %s (attempt %d)", delivery.slot_at, subscription.id,
                 delivery.attempts + 1)
        await self._send(subscription, delivery, articles, sources, report)

    async def _send(self, subscription: Subscription, delivery: Delivery, articles: Sequence[Article],
                    sources: Mapping[int, Source], report: TickReport) -> None:
        chat = subscription.chat
        # One send at a time per chat, so that a chat one of its digests finds gone is not asked
        # again by the others due with it: repeated refusals can get a bot banned. A send takes
        # one of the concurrency slots only once it is its chat's turn, so that a chat with many
        # digests due (the topics of a forum) does not hold up every other chat.
        async with self._chat_turns.setdefault((chat.platform, chat.chat_id), asyncio.Lock()):
            if (reason := self._found_gone(chat)) is not None:
                await self.repo.finish_delivery(delivery, DeliveryStatus.FAILED, self.clock(),
                                                message_ids=delivery.message_ids, error=reason)
                report.gone += 1
                return
            async with self._slots:
                await self._deliver(subscription, delivery, articles, sources, report)

    async def _deliver(self, subscription: Subscription, delivery: Delivery, articles: Sequence[Article],
                       sources: Mapping[int, Source], report: TickReport) -> None:
        key = tuple(a.id for a in articles)
        if key not in self._lines:
            self._lines[key] = tuple(item_lines(articles, sources))
        reply = digest_reply(subscription, self._lines[key], delivery.slot_at)
        messenger = self.messengers[subscription.chat.platform]
        sent = self._already_sent(delivery, reply)
        try:
            result = await messenger.send(subscription.chat, reply, sent)
        except Exception:
            log.exception("sending to %s failed", subscription.chat.scope)
            result = SendResult(Outcome.RETRY_LATER, sent, "internal error while sending")
        part_way = result.outcome is not Outcome.SENT and bool(result.message_ids)  # a retry may go on from there
        finish = partial(self.repo.finish_delivery, delivery, now=self.clock(), message_ids=result.message_ids,
                         reply_checksum=reply.checksum if part_way else None)
        if result.outcome is Outcome.SENT:
            await finish(DeliveryStatus.SENT)
            report.sent += 1
        elif result.outcome is Outcome.GONE:
            gone = result.gone or subscription.chat
            # under the id it was sent to as well: a chat that moved on the way is still due there
            self._gone |= {gone: result.reason, replace(gone, chat_id=subscription.chat.chat_id): result.reason}
            await finish(DeliveryStatus.FAILED, error=result.reason)
            disabled = await self.repo.disable_chat(gone, result.reason)
            log.warning("digest for %s (thread %s): unreachable (%s), %d subscription(s) disabled", gone.scope,
                        gone.thread_id or "-", result.reason, disabled)
            report.gone += 1
        else:
            await finish(DeliveryStatus.FAILED, error=result.reason, retry_at=self._retry_at(delivery))
            report.failed += 1

    def _found_gone(self, chat: ChatRef) -> str | None:
        """Why, if an earlier send of this tick found the chat, or this topic of it, gone: the
        platform's answer will not change, and repeated refusals can get a bot banned."""
        return self._gone.get(chat, self._gone.get(replace(chat, thread_id=None)))

    @staticmethod
    def _already_sent(delivery: Delivery, reply: Reply) -> tuple[str, ...]:
        """The messages an earlier attempt delivered, if this reply is the one they belong to. A
        digest whose stories merged or whose articles were corrected since is sent whole: a part
        seen twice is better than a part never seen."""
        if delivery.message_ids and delivery.reply_checksum != reply.checksum:
            log.info("the digest of slot %s of subscription %s changed since its first %d message(s); "
                     "sending it whole", delivery.slot_at, delivery.subscription_id, len(delivery.message_ids))
            return ()
        return delivery.message_ids

    def _retry_at(self, delivery: Delivery) -> datetime | None:
        """Try again after a growing delay while the slot is still within its grace window."""
        if delivery.attempts >= len(self.policy.retry_delays):
            return None
        retry_at = self.clock() + self.policy.retry_delays[delivery.attempts]
        return retry_at if retry_at <= delivery.slot_at + self.policy.grace else None
