"""Agents, queues and skill routing."""
