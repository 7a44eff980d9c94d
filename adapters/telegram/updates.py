"""Incoming updates turned into core calls: commands, chats that moved, chats the bot left.

One generic command handler serves every command the core knows, in private chats, groups,
forum topics and channels, so a new core command needs no change here.
"""

from __future__ import annotations

import logging

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import BaseHandler, ChatMemberHandler, ContextTypes, MessageHandler, filters

from adapters.telegram.access import AdminCache, TelegramChatAccess
from adapters.telegram.sender import TelegramSender
from adapters.telegram.turns import ChatTurns
from bot.commands import Request
from bot.core import Core
from bot.model import ChatRef, UserRef
from bot.outbox import Outcome, SendResult
from bot.reply import Reply

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (Update.MESSAGE, Update.CHANNEL_POST, Update.MY_CHAT_MEMBER)
APOLOGY = Reply.notice("Sorry, something went wrong on our side. It has been logged; please try again later.")
# Channel posts carry no user and, as PTB's own issues note, not always a bot_command entity:
# a leading slash is what makes a command here, and the core decides whether it is one of ours.
COMMANDS = filters.Regex(r"^/[A-Za-z0-9_]") & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST)


def chat_ref(chat: Chat, message: Message | None = None) -> ChatRef:
    """The chat, and the forum topic when the message was posted in one."""
    thread = message.message_thread_id if message is not None and message.is_topic_message else None
    return ChatRef("telegram", str(chat.id), str(thread) if thread is not None else None)


def sender_of(message: Message) -> UserRef:
    """The person, or the chat a message speaks for (a channel post, an anonymous admin)."""
    if message.sender_chat is not None:
        return UserRef("telegram", str(message.sender_chat.id), message.sender_chat.title or "")
    user = message.from_user
    assert user is not None  # Telegram sets one of the two
    return UserRef("telegram", str(user.id), user.full_name)


class UpdateRouter:
    def __init__(self, core: Core, sender: TelegramSender, admins: AdminCache) -> None:
        self._core = core
        self._sender = sender
        self._admins = admins
        self._turns = ChatTurns()

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [
            MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migration),
            MessageHandler(COMMANDS, self.on_command),
            ChatMemberHandler(self.on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        speaker = message.sender_chat
        access = TelegramChatAccess(
            context.bot, self._admins, chat.id, chat.type,
            user_id=message.from_user.id if message.from_user and speaker is None else None,
            as_this_chat=speaker is not None and speaker.id == chat.id,
        )
        where = chat_ref(chat, message)
        request = Request(where, sender_of(message), access)
        async with self._turns.turn(chat.id):
            reply = await self._core.handle_text(request, message.text, context.bot.username)
            if reply is None:
                return
            result = await self._answer(where, reply)
        if result.outcome is not Outcome.SENT:
            log.warning("reply to %r in %s not delivered: %s (%s)", message.text[:40], where.scope,
                        result.outcome, result.reason)

    async def _answer(self, where: ChatRef, reply: Reply) -> SendResult:
        """A reply to a command; a chat it finds gone (kicked, topic deleted) is no longer posted to."""
        result = await self._sender.send(where, reply)
        if result.outcome is Outcome.GONE:
            await self._core.chat_gone(result.gone or where, result.reason)
        return result

    async def on_migration(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: its subscriptions and sources follow the new id."""
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return  # the supergroup's own migrate_from message: the old chat's message covers it
        async with self._turns.turn(message.chat.id):
            await self._core.chat_moved(chat_ref(message.chat), str(message.migrate_to_chat_id))

    async def on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was removed from a chat, or blocked by a user: stop sending there."""
        change = update.my_chat_member
        if change is None or change.new_chat_member.status not in (ChatMemberStatus.LEFT,
                                                                   ChatMemberStatus.BANNED):
            return
        if change.chat.type == ChatType.PRIVATE:
            reason = "the user blocked the bot"
        elif change.new_chat_member.status == ChatMemberStatus.LEFT:
            reason = "the bot left or was removed from the chat"
        else:
            reason = "the bot was removed from the chat"
        async with self._turns.turn(change.chat.id):
            await self._core.chat_gone(chat_ref(change.chat), reason)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Whatever a handler let escape: logged with where it happened, apologised for, survived."""
        where = None
        if isinstance(update, Update) and update.effective_chat is not None:
            where = chat_ref(update.effective_chat, update.effective_message)
        text = update.effective_message.text if isinstance(update, Update) and update.effective_message else None
        log.error("handling update %s in %s (%r) failed", getattr(update, "update_id", "?"),
                  where.scope if where else "no chat", (text or "")[:40], exc_info=context.error)
        if where is None or text is None or not text.startswith("/"):
            return
        try:
            await self._answer(where, APOLOGY)
        except Exception:
            log.exception("the apology to %s failed too", where.scope)
