"""What a request holds at billing before any provider is called: pre-flight, credit leases."""
