"""Responses of the OpenAI Responses API kept per team (``store: true``), so that a later
request can continue one (``previous_response_id``) and a client can retrieve or delete it. They
live in the router's database, shared by every router replica, for a retention period; a
sweeper deletes the expired ones. See docs/responses.md."""
