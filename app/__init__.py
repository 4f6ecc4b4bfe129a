"""ContactGraph: a GraphQL gateway over marketing contact data."""
