"""A transparency-log witness (C2SP tlog-witness), as an outside party runs it: ``bidding witness``.

It shares nothing with the platform but the log's verifier key: it keeps, per log, the latest checkpoint it
cosigned, in a file of its own, and cosigns a new checkpoint only when a consistency proof shows it extends that
one. ``model`` decides (pure), ``state`` keeps the file, ``service`` puts them together under one lock, ``http``
is the ASGI application of ``POST /add-checkpoint`` and ``commands`` the command line.
"""
