"""Realtime: Channels consumers, signaling, presence and broadcasts."""
