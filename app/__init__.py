"""信用分 backend. The composition root is :func:`app.factory.create_app`."""

from app.validation_messages import use_chinese_messages

# marshmallow fixes a field's messages when the field is made, i.e. when a schema module is imported: set the
# Chinese ones before any of ours can be (every schema module imports from ``app`` first), not in create_app.
use_chinese_messages()
