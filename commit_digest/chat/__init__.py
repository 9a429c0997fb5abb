"""Chat delivery beside email: each platform's format, signature and limit, and the sender."""
