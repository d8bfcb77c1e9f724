"""nacho's test room server: docs/PROTOCOL.md on python-socketio, media on aiortc.

An independent implementation of the server side, so that nacho is never tested against
its own code. Everything binds to 127.0.0.1.
"""
