"""Microsoft Teams through the Bot Framework SDK: the only package that imports botbuilder."""

from adapters.teams.auth import TeamsCredentials
from adapters.teams.channel import TeamsAdapter

__all__ = ["TeamsAdapter", "TeamsCredentials"]
