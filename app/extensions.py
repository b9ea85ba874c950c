"""Flask extensions, created unbound and initialised by the app factory.

A leaf: it imports only the models' declarative base (which imports nothing of the app), so any
module may import `db` without pulling in the API, the factory or the migration toolkit.
"""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from app.models import Base
from config import MIGRATIONS_DIR

db = SQLAlchemy(model_class=Base)


api = Api()

# These options reach Alembic's context.configure() through migrations/env.py, for every
# caller: `flask db`, the release runner and the tests alike.
migrate = Migrate(
    db=db,
    # Absolute, so `flask db` works from any working directory.
    directory=str(MIGRATIONS_DIR),
    compare_type=True,
    compare_server_default=True,
    # Batch mode rebuilds tables for SQLite; on PostgreSQL it only adds noise.
    render_as_batch=False,
    # One transaction per revision: a failure rolls back that revision only, and the
    # database is left at the last one that succeeded.
    transaction_per_migration=True,
)
