"""The shell of Hotline: settings, database, Redis, Twilio gateway, app factory and CLI."""
