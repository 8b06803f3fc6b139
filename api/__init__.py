"""The API for partner organisations and court systems (issue 16): django-ninja, token per client with scopes,
every call audited, webhooks through the outbox. It may import ``mediation`` and ``documents``; neither imports it."""
