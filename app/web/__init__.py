"""HTTP: the app's assembly, middleware, auth, CORS, routes, OpenAPI and the dashboard."""
