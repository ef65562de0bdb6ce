"""API keys: turning a presented credential into a principal (the ext_authz hot path, behind
the key cache), the first-start bootstrap, last-used tracking and the revocation listener that
keeps the cache in step with other replicas."""
