"""The GraphQL BFF: Strawberry schema, resolvers, DataLoaders and the Starlette app."""
