"""Chat generation: the service (resolve, route, pre-flight, open the first provider that
answers) and the relay of its events."""
