"""Feed ingestion, network and parsing half: fetch a feed safely, parse it into ArticleDrafts,
and read or write OPML source lists. Pure library code: no storage, no scheduling."""

from bot.ingest.feeds import FeedError, ParsedFeed, parse_feed
from bot.ingest.fetch import FeedFetcher, FetchLimits, FetchResult, fetch_feed, make_client
from bot.ingest.netguard import GuardedTransport, is_public_address
from bot.ingest.opml import FeedOutline, OpmlError, export_opml, parse_opml

__all__ = [
    "FeedError", "FeedFetcher", "FeedOutline", "FetchLimits", "FetchResult", "GuardedTransport",
    "OpmlError", "ParsedFeed", "export_opml", "fetch_feed", "is_public_address", "make_client",
    "parse_feed", "parse_opml",
]
