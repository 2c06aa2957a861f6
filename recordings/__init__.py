"""Recordings: status callbacks, storage, secure playback, retention."""
