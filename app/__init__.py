"""信用分 backend. The composition root is :func:`app.factory.create_app`."""
