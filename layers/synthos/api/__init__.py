"""The REST API's logic: routes in ``app.py`` (and the blueprints here) stay thin and call
these services. Every service takes the caller's :class:`~synthos.api.principal.Principal` and
scopes every read and write to its tenant."""
