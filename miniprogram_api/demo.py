"""The demo's WeChat pieces: the local stand-in WeChat server and the `wechat` credentials entry."""


def extend_credentials(payload: dict) -> None:
    """Add what a newcomer needs to try the mini-program login and the chatbot."""


def start_standins(app) -> None:
    """Start the local stand-ins the demo needs (called by `flask demo serve` before serving)."""
