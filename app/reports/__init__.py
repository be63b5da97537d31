"""个人信用报告: a report a citizen requests for a stated purpose, rendered as a signed Chinese PDF that anyone it is
handed to can verify, offline from its PDF signature and online by its QR code."""
