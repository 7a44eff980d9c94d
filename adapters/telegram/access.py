"""Who may do what, as only Telegram can tell: chat-admin checks and naming another chat."""

from __future__ import annotations

import logging
from collections import OrderedDict

from telegram import Bot, ChatMember, ChatMemberAdministrator, ChatMemberRestricted
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden

from adapters.telegram.clock import Clock
from bot.commands import Refused
from bot.model import ChatRef

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


def api_chat_id(chat_id: str) -> int | str:
    """Telegram takes numeric ids as numbers and channels also as '@name'."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class AdminCache:
    """Recent getChatMember answers, so a busy group's commands cost one API call a minute.

    Bounded (least recently used entries go first) and short-lived: a demoted admin keeps their
    rights for at most `ttl` seconds.
    """

    def __init__(self, clock: Clock, ttl: float = 60.0, size: int = 4096) -> None:
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._entries: OrderedDict[tuple[int, int], tuple[bool, float]] = OrderedDict()

    def get(self, chat_id: int, user_id: int) -> bool | None:
        entry = self._entries.get((chat_id, user_id))
        if entry is None or entry[1] <= self._clock.now():
            return None
        self._entries.move_to_end((chat_id, user_id))
        return entry[0]

    def put(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        self._entries[(chat_id, user_id)] = (is_admin, self._clock.now() + self._ttl)
        self._entries.move_to_end((chat_id, user_id))
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


def can_post(member: ChatMember, chat_type: str) -> bool:
    """Whether the bot, as this member, may post: channels need an admin with Post Messages."""
    if chat_type == ChatType.CHANNEL:
        return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    if isinstance(member, ChatMemberRestricted):
        return member.is_member and member.can_send_messages
    return member.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)


class TelegramChatAccess:
    """The ChatAccess of one incoming message.

    `user_id` is None when the message speaks for a chat rather than a person (a channel post, an
    anonymous group admin); `as_this_chat` says the speaker is the chat itself, which only its
    admins can be.
    """

    def __init__(self, bot: Bot, cache: AdminCache, chat_id: int, chat_type: str, user_id: int | None,
                 as_this_chat: bool) -> None:
        self._bot = bot
        self._cache = cache
        self._chat_id = chat_id
        self._chat_type = chat_type
        self._user_id = user_id
        self._as_this_chat = as_this_chat

    async def is_chat_admin(self) -> bool:
        if self._chat_type in (ChatType.PRIVATE, ChatType.CHANNEL) or self._as_this_chat:
            return True
        if self._user_id is None:
            return False
        return await self._is_admin(self._chat_id, self._user_id)

    async def resolve_chat(self, ref: str, to_post: bool = True) -> ChatRef:
        name = ref.strip()
        if self._user_id is None:
            raise Refused(f"Send this from a private chat with me, so I can check that you run {name}.")
        if not (name.startswith("@") or name.lstrip("-").isdigit()):
            raise Refused(f"I can't find {name}: name a channel as @username (or by its numeric id).")
        try:
            chat = await self._bot.get_chat(api_chat_id(name))
        except (BadRequest, Forbidden) as exc:
            log.info("cannot resolve %s: %s", name, exc.message)
            raise Refused(f"I can't find {name}. Check the name, and add me to it as an admin first.") from None
        found = ChatRef("telegram", str(chat.id))
        try:
            admin = await self._is_admin(chat.id, self._user_id, cached=False)
        except Forbidden:  # a chat the bot is not in: Telegram will not say who runs it
            if not to_post:  # nor can the bot post there, so its subscription is dead: anyone may end it
                return found
            raise Refused(f"I am not in {name}, so I cannot check that you run it. Add me to it as an admin"
                          " first.") from None
        if not admin:
            raise Refused(f"You are not an admin of {name}.")
        if not to_post:
            return found
        try:
            me = await self._bot.get_chat_member(chat.id, self._bot.id)
        except (BadRequest, Forbidden):
            me = None
        if me is None or not can_post(me, chat.type):
            if chat.type == ChatType.CHANNEL:
                raise Refused(f"I am not an admin of {name} with permission to post.")
            raise Refused(f"I am not a member of {name} who may post there.")
        return found

    async def _is_admin(self, chat_id: int, user_id: int, cached: bool = True) -> bool:
        """Ask Telegram (or the cache); someone Telegram does not know in that chat is no admin."""
        known = self._cache.get(chat_id, user_id) if cached else None
        if known is not None:
            return known
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except BadRequest as exc:  # e.g. "user not found"
            log.info("getChatMember %s in %s: %s", user_id, chat_id, exc.message)
            return False
        is_admin = member.status in ADMIN_STATUSES
        self._cache.put(chat_id, user_id, is_admin)
        return is_admin
