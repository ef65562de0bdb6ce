"""Teams, members, projects and the API keys listed and managed on behalf of a caller."""
