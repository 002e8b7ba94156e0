"""The GitHub REST client, its transport and payload types, and the Actions context."""
