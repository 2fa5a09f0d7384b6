"""Domain errors with stable codes (API.md, "Errors").

Shared by accounts and directory. Services raise these; the schema layer answers them as
``OperationInfo`` messages in mutations; anywhere else graphql-core copies their
``extensions`` (the stable ``code``) onto the GraphQL error it reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class ErrorMessage:
    message: str
    code: str
    field: str | None = None


class DomainError(Exception):
    code = "INVALID"
    default_message = _("The request is invalid.")

    def __init__(self, message: str | None = None, *, field: str | None = None, code=None):
        # Translated now, in the language of the request (backend.i18n) or the email.
        self.message = str(message or self.default_message)
        self.field = field
        if code:
            self.code = code
        super().__init__(self.message)

    @property
    def messages(self) -> list[ErrorMessage]:
        return [ErrorMessage(self.message, self.code, self.field)]

    @property
    def extensions(self) -> dict[str, str]:
        """What graphql-core puts in the error's ``extensions`` when a resolver raises it."""
        return {"code": self.code}


class Invalid(DomainError):
    """One or more fields failed validation; ``field`` names are camelCase."""

    code = "INVALID"

    def __init__(self, message: str | None = None, *, field=None, code=None, errors=None):
        super().__init__(message or _("Invalid input."), field=field, code=code)
        self._errors = list(errors or [])

    @property
    def messages(self) -> list[ErrorMessage]:
        return self._errors or super().messages

    @classmethod
    def from_validation_error(cls, error: ValidationError, *, field: str | None = None):
        """Turn Django's ValidationError (model, form or password validators) into codes."""
        errors: list[ErrorMessage] = []
        if hasattr(error, "error_dict"):
            for name, field_errors in error.error_dict.items():
                target = None if name == NON_FIELD_ERRORS else _camel(name)
                errors.extend(_messages(field_errors, target))
        else:
            errors.extend(_messages(error.error_list, field))
        first = errors[0] if errors else ErrorMessage(str(_("Invalid input.")), "INVALID", field)
        return cls(first.message, field=first.field, code=first.code, errors=errors)


def _messages(errors, field):
    for item in errors:
        message = item.message % item.params if item.params else item.message
        yield ErrorMessage(str(message), item.code or "INVALID", field)


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = _("You must be signed in.")


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    default_message = _("You do not have permission to perform this action.")


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = _("Not found.")


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    default_message = _("Invalid email or password.")


class EmailNotVerified(DomainError):
    code = "EMAIL_NOT_VERIFIED"
    default_message = _("Verify your email address before signing in.")


class AccountDisabled(DomainError):
    code = "ACCOUNT_DISABLED"
    default_message = _("This account is disabled.")


class TokenInvalid(DomainError):
    code = "TOKEN_INVALID"
    default_message = _("This link is invalid or has already been used.")


class TokenExpired(DomainError):
    code = "TOKEN_EXPIRED"
    default_message = _("This link has expired.")


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    default_message = _("Too many attempts. Try again later.")


class SeatLimitReached(DomainError):
    code = "SEAT_LIMIT_REACHED"
    default_message = _("The organization has no free seats left on its plan.")


class AlreadyMember(DomainError):
    code = "ALREADY_MEMBER"
    default_message = _("This person is already a member.")


class InvitationEmailMismatch(DomainError):
    code = "INVITATION_EMAIL_MISMATCH"
    default_message = _("This invitation was sent to another email address.")


class LastOwner(DomainError):
    code = "LAST_OWNER"
    default_message = _("A team must keep at least one owner.")


class LastAdministrator(DomainError):
    code = "LAST_ADMINISTRATOR"
    default_message = _("An organization must keep at least one administrator.")


class UnsupportedImage(DomainError):
    code = "UNSUPPORTED_IMAGE"
    default_message = _("This file is not a supported image (PNG, JPEG, WebP or GIF).")


class ImageTooLarge(DomainError):
    code = "IMAGE_TOO_LARGE"
    default_message = _("This image is too large.")


class ReauthenticationRequired(DomainError):
    code = "REAUTHENTICATION_REQUIRED"
    default_message = _("Confirm it is you (reauthenticate) before this change.")


class MfaRequired(DomainError):
    code = "MFA_REQUIRED"
    default_message = _(
        "Your organization requires a second factor: set one up (reauthenticate, then "
        "totpSetupBegin or passkeyRegistrationBegin) to continue."
    )


class MfaCodeInvalid(DomainError):
    code = "MFA_CODE_INVALID"
    default_message = _("This code is not valid.")


class RegistrationCompletionRequired(DomainError):
    code = "REGISTRATION_COMPLETION_REQUIRED"
    default_message = _(
        "This link was opened where the registration did not start: choose a password "
        "(and name the organization) to finish."
    )


class SsoRequired(DomainError):
    code = "SSO_REQUIRED"
    default_message = _("This email address signs in through its organization's identity provider.")


class DomainNotVerified(DomainError):
    code = "DOMAIN_NOT_VERIFIED"
    default_message = _("The domain's DNS does not hold its verification record yet.")


class PreflightRequired(DomainError):
    code = "PREFLIGHT_REQUIRED"
    default_message = _("A GET request must carry a header that needs a CORS preflight.")
