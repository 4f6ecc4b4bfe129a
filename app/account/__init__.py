"""Account configuration: identifier keys, attribute definitions, lists, audiences, API keys."""
