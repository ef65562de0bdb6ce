"""Rate limits: requests and tokens per minute and concurrent requests per team, project or
API key, counted exactly across routers and billing replicas in billing's database."""
