"""Channel-neutral chat-ops SLA bot: app factory, settings, CLI and router."""
