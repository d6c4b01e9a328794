"""Prometheus metrics, one registry per app (no module-level state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "chatops_http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "chatops_http_request_seconds",
            "Time to answer an HTTP request",
            ["route"],
            registry=self.registry,
        )
        self.turns = Counter(
            "chatops_turns",
            "Messages handled by the router, by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "chatops_turn_seconds",
            "Time from accepting an event to having sent the answers",
            ["channel"],
            registry=self.registry,
        )
        self.errors = Counter(
            "chatops_errors",
            "Failures by where they happened",
            ["where"],
            registry=self.registry,
        )
        self.inbound_batch_size = Histogram(
            "chatops_inbound_batch_size",
            "Inbound events stored per transaction (webhooks arriving together share one)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.duplicates = Counter(
            "chatops_duplicate_events",
            "Inbound events delivered again and ignored",
            ["channel"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
