"""Why a sign-in could not go ahead: said to the person in plain words, and kept in the audit trail."""


class SignInRefused(Exception):
    """A sign-in the portal refuses, with the sentence the person reads and the reason the trail keeps."""

    def __init__(self, sentence: str, reason: str = "", username: str = "") -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.reason = reason or sentence
        self.username = username


class ProviderUnavailable(SignInRefused):
    """The identity provider or the directory could not be reached, or answered in a way the portal cannot use."""


NAME_TAKEN = (
    "An account named {username} already exists in this portal and is not linked to your sign-in, "
    "so you cannot sign in with it. Ask an administrator."
)
DISABLED = "Your account in this portal is disabled. Ask an administrator."
