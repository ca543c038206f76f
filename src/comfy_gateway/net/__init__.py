"""Outbound network safety: the address guard used for media URLs and webhooks."""
