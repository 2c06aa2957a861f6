"""A local Twilio: plays scripted callers against the app over signed webhooks, and serves the
REST endpoints the app calls. Start from `simulator.exchange.Exchange`."""
