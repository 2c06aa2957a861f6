"""The bilingual IVR: menus as data, per-call sessions in Redis, TwiML, voice webhooks."""
