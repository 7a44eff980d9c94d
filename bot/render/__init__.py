"""Pure renderers: a Reply in, a list of platform-ready messages out."""
