"""A real OpenID Connect provider for the tests: a separate Django project with django-oauth-toolkit
(OIDC, RS256 with a key the tests generate, PKCE required, RP-initiated logout), its own SQLite file
and its own sign-in page. Its people and their groups are a JSON file the tests write
(PROVIDER_DIR/people.json), read afresh at each sign-in and each token, as a directory would be.
"""
