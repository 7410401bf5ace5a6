"""The routers, one module per area."""
