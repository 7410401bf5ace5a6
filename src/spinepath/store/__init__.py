"""Persistence adapter: SQLAlchemy 2 models, Alembic migrations, repositories."""
