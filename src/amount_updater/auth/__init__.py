"""Who may change an object: a signed update token bound to it, or a server API key."""
