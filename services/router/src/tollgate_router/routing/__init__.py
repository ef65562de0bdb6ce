"""Which providers serve a request, in which order, and the failover engine that tries them."""
