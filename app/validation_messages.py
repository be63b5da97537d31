"""marshmallow's default field and validator messages in Chinese: the ``errors`` of a 422 are read by citizens,
merchants and staff, not only by developers. Class attributes are marshmallow's documented way to change them."""

from marshmallow import fields, validate

FIELD_MESSAGES = {
    fields.Field: {"required": "此项为必填。", "null": "此项不能为空。", "validator_failed": "此项的值不符合要求。"},
    fields.String: {"invalid": "应为文本。", "invalid_utf8": "文本编码无效。"},
    fields.Integer: {"invalid": "应为整数。", "too_large": "数值过大。"},
    fields.Number: {"invalid": "应为数字。", "too_large": "数值过大。"},
    fields.Boolean: {"invalid": "应为 true 或 false。"},
    fields.DateTime: {"invalid": "时间格式不正确。", "format": "时间格式不正确。"},
    fields.Date: {"invalid": "日期格式不正确，应为 YYYY-MM-DD。", "format": "日期格式不正确，应为 YYYY-MM-DD。"},
    fields.List: {"invalid": "应为列表。"},
    fields.Dict: {"invalid": "应为对象。"},
    fields.Nested: {"type": "格式不正确，应为对象。"},
    fields.Email: {"invalid": "电子邮箱地址不正确。"},
    fields.UUID: {"invalid_uuid": "编号格式不正确。"},
}


def use_chinese_messages() -> None:
    for field_class, messages in FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    from marshmallow import schema

    schema.Schema._default_error_messages = {
        **schema.Schema._default_error_messages,
        "type": "请求内容应为 JSON 对象。",
        "unknown": "不认识的字段。",
    }
    validate.Length.message_min = "长度至少为 {min}。"
    validate.Length.message_max = "长度不能超过 {max}。"
    validate.Length.message_all = "长度应在 {min} 到 {max} 之间。"
    validate.Length.message_equal = "长度应为 {equal}。"
    # Range formats these twice: first the operator words, then the bounds.
    validate.Range.message_min = "应{min_op} {{min}}。"
    validate.Range.message_max = "应{max_op} {{max}}。"
    validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}。"
    validate.Range.message_gte = "大于或等于"
    validate.Range.message_gt = "大于"
    validate.Range.message_lte = "小于或等于"
    validate.Range.message_lt = "小于"
    validate.OneOf.default_message = "应为以下之一：{choices}。"
    validate.Regexp.default_message = "格式不正确。"
