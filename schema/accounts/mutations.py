"""Account mutations: thin resolvers over accounts.services."""

from __future__ import annotations

import strawberry
from django.utils import timezone
from strawberry.types import Info

from accounts.services import auth, mfa, passkeys, registration
from accounts.services.account import account_delete, account_export
from accounts.services.email_change import (
    email_change_confirm,
    email_change_request,
    email_change_revert,
)
from accounts.services.reauthentication import reauthenticate
from accounts.services.sessions import session_revoke, sessions_revoke_others
from schema.accounts.types import (
    AccountDeleted,
    DataExport,
    EmailRequestAccepted,
    LoggedOut,
    PasskeyOptionsType,
    PasskeyType,
    Reauthenticated,
    RecoveryCodesType,
    SessionsRevoked,
    SignInResult,
    TotpSetupType,
    UserType,
    sign_in_answer,
)
from schema.ids import node_uuid
from schema.mutations import input_mutation, mutation
from schema.permissions import require_viewer


def _request(info: Info):
    return info.context.request


@strawberry.type
class AuthMutation:
    @input_mutation(
        description=(
            "Create an account and email its verification link. Without an invitation "
            "token the account waits for its address to be proven (verifyEmail), then gets "
            "a new organization that it administers; a still-unverified registration of "
            "the same address is replaced. An email that already has an account answers "
            "like a success."
        )
    )
    def register(
        self,
        info: Info,
        email: str,
        password: str,
        first_name: str = "",
        last_name: str = "",
        organization_name: str | None = None,
        invitation_token: str | None = None,
    ) -> UserType:
        return registration.user_register(
            request=_request(info),
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            organization_name=organization_name,
            invitation_token=invitation_token,
        )

    @input_mutation(
        description=(
            "Confirm an email address with the token from the email. Opened in a browser "
            "that did not register the account, it answers REGISTRATION_COMPLETION_REQUIRED "
            "until newPassword (and, for a new registration, organizationName; names are "
            "optional) are given: the clicker owns the address, so nothing the registrant "
            "chose is kept."
        )
    )
    def verify_email(
        self,
        info: Info,
        token: str,
        new_password: str | None = None,
        organization_name: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> UserType:
        return registration.email_verify(
            request=_request(info),
            token=token,
            new_password=new_password,
            organization_name=organization_name,
            first_name=first_name,
            last_name=last_name,
        )

    @input_mutation(description="Send a new verification email (same answer for any email).")
    def resend_verification_email(self, info: Info, email: str) -> EmailRequestAccepted:
        registration.verification_email_resend(request=_request(info), email=email)
        return EmailRequestAccepted()

    @input_mutation(
        description=(
            "Sign in with email and password: starts a session, or, for an account with a "
            "second factor, answers MfaChallenge (complete it with verifyMfa)."
        )
    )
    def login(self, info: Info, email: str, password: str) -> SignInResult:
        return sign_in_answer(
            auth.user_login(request=_request(info), email=email, password=password)
        )

    @input_mutation(
        description=(
            "Complete a sign-in that answered MfaChallenge, in the same browser: a code from "
            "the authenticator app, or one of the recovery codes (each works once). Starts "
            "the session. MFA_CODE_INVALID for a wrong code, TOKEN_EXPIRED once the "
            "challenge is gone (sign in again)."
        )
    )
    def verify_mfa(
        self, info: Info, code: str | None = None, recovery_code: str | None = None
    ) -> UserType:
        return mfa.mfa_challenge_complete(
            request=_request(info), code=code, recovery_code=recovery_code
        )

    @mutation(
        sensitive=True,
        description=(
            "Begin setting up an authenticator app: a new secret, its otpauth URI and QR "
            "code. Nothing changes until totpSetupConfirm."
        ),
    )
    def totp_setup_begin(self, info: Info) -> TotpSetupType:
        setup = mfa.totp_setup_begin(actor=require_viewer(info))
        return TotpSetupType(
            secret=setup.secret, otpauth_uri=setup.otpauth_uri, qr_code_svg=setup.qr_code_svg
        )

    @input_mutation(
        sensitive=True,
        description=(
            "Enable the authenticator app with a first code from it; answers the recovery "
            "codes, shown this once. The account's email is told."
        ),
    )
    def totp_setup_confirm(self, info: Info, code: str) -> RecoveryCodesType:
        return RecoveryCodesType(
            codes=mfa.totp_setup_confirm(actor=require_viewer(info), code=code)
        )

    @mutation(
        sensitive=True,
        description=(
            "Begin adding a passkey: WebAuthn creation options (JSON) for "
            "navigator.credentials.create, valid once, in this browser, for 5 minutes."
        ),
    )
    def passkey_registration_begin(self, info: Info) -> PasskeyOptionsType:
        options = passkeys.passkey_registration_begin(
            request=_request(info), actor=require_viewer(info)
        )
        return PasskeyOptionsType(public_key_json=options)

    @input_mutation(
        sensitive=True,
        description=(
            "Finish adding a passkey with the browser's answer (PublicKeyCredential as "
            "JSON) and a name; the email is told. INVALID (credentialJson) when the answer "
            "does not match the options (origin, relying party, challenge, user "
            "verification); TOKEN_EXPIRED without a registration in progress."
        ),
    )
    def passkey_registration_finish(
        self, info: Info, credential_json: str, name: str
    ) -> PasskeyType:
        passkey = passkeys.passkey_registration_finish(
            request=_request(info),
            actor=require_viewer(info),
            credential_json=credential_json,
            name=name,
        )
        return PasskeyType.of(passkey)

    @input_mutation(
        description=(
            "Begin signing in with a passkey: WebAuthn request options (JSON) for "
            "navigator.credentials.get. The device offers the passkeys it holds for "
            "Roster: the options name none, with or without an email, so they never tell "
            "whether an address has an account. After a password (MfaChallenge), they name "
            "that account's passkeys."
        )
    )
    def passkey_authentication_begin(
        self, info: Info, email: str | None = None
    ) -> PasskeyOptionsType:
        options = passkeys.passkey_authentication_begin(request=_request(info), email=email)
        return PasskeyOptionsType(public_key_json=options)

    @input_mutation(
        description=(
            "Finish signing in with the browser's answer (JSON): on its own (a passkey is "
            "two factors), or as the second factor of the sign-in waiting in this browser "
            "(its own account's passkey only). Starts the session. INVALID_CREDENTIALS for "
            "an answer that does not verify (origin, relying party, challenge, signature, a "
            "counter that did not move forward)."
        )
    )
    def passkey_authentication_finish(self, info: Info, credential_json: str) -> UserType:
        return passkeys.passkey_authentication_finish(
            request=_request(info), credential_json=credential_json
        )

    @input_mutation(
        sensitive=True, description="Remove one of the viewer's passkeys; the email is told."
    )
    def passkey_remove(self, info: Info, id: strawberry.ID) -> UserType:
        actor = require_viewer(info)
        passkeys.passkey_remove(actor=actor, passkey_id=node_uuid(id, "Passkey"))
        return actor

    @mutation(
        sensitive=True,
        description="Remove the authenticator app and the recovery codes; the email is told.",
    )
    def totp_disable(self, info: Info) -> UserType:
        return mfa.totp_disable(actor=require_viewer(info))

    @mutation(
        sensitive=True,
        description="New recovery codes (the old ones stop working); the email is told.",
    )
    def recovery_codes_regenerate(self, info: Info) -> RecoveryCodesType:
        return RecoveryCodesType(codes=mfa.recovery_codes_regenerate(actor=require_viewer(info)))

    @mutation(description="End the current session.")
    def logout(self, info: Info) -> LoggedOut:
        auth.user_logout(request=_request(info))
        return LoggedOut()

    @input_mutation(description="Email a password reset link (same answer for any email).")
    def request_password_reset(self, info: Info, email: str) -> EmailRequestAccepted:
        auth.password_reset_request(request=_request(info), email=email)
        return EmailRequestAccepted()

    @input_mutation(
        description="Set a new password with the token from the reset email; ends every session."
    )
    def reset_password(self, info: Info, token: str, new_password: str) -> UserType:
        return auth.password_reset(request=_request(info), token=token, new_password=new_password)

    @input_mutation(
        description="Change the viewer's password; ends every other session of the account."
    )
    def change_password(self, info: Info, current_password: str, new_password: str) -> UserType:
        return auth.password_change(
            request=_request(info),
            actor=require_viewer(info),
            current_password=current_password,
            new_password=new_password,
        )

    @input_mutation(
        description=(
            "Confirm it is you, as strongly as signing in: the password again (with a "
            "code from the app or a recovery code once the account has an authenticator "
            "app), or a passkey (credentialJson: the answer to passkeyAuthenticationBegin; "
            "the way for an account whose only second factor is a passkey). Opens "
            "sensitive operations (wipeOutOrganization, requestEmailChange, deleteAccount, "
            "adding or removing a second factor) in this session for REAUTHENTICATION_TTL "
            "seconds. Accounts without a password re-authenticate through "
            "/api/user/oidc/authenticate/?reauthenticate=1; when that answers "
            "error=MFA_REQUIRED, finish here with code alone (or a passkey)."
        )
    )
    def reauthenticate(
        self,
        info: Info,
        password: str | None = None,
        code: str | None = None,
        credential_json: str | None = None,
    ) -> Reauthenticated:
        valid_until = reauthenticate(
            request=_request(info),
            actor=require_viewer(info),
            password=password,
            code=code,
            credential_json=credential_json,
        )
        return Reauthenticated(valid_until=valid_until)

    @input_mutation(
        description=(
            "End one of the viewer's sessions (User.sessions) at once, in every server "
            "process; ending the current one signs it out. NOT_FOUND for any other id."
        )
    )
    def revoke_session(self, info: Info, id: strawberry.ID) -> SessionsRevoked:
        revoked = session_revoke(actor=require_viewer(info), session_id=node_uuid(id, "Session"))
        return SessionsRevoked(revoked=revoked)

    @mutation(description="End every session of the viewer but this one.")
    def revoke_other_sessions(self, info: Info) -> SessionsRevoked:
        revoked = sessions_revoke_others(actor=require_viewer(info), request=_request(info))
        return SessionsRevoked(revoked=revoked)

    @mutation(
        description=(
            "Everything Roster holds about the viewer, as JSON (GDPR articles 15 and 20; "
            "the shape is documented in README). Rate limited per user."
        )
    )
    def export_my_data(self, info: Info) -> DataExport:
        data = account_export(actor=require_viewer(info))
        return DataExport(created_at=timezone.now(), data=data)

    @input_mutation(
        sensitive=True,
        description=(
            "Delete the viewer's account and personal data and sign out; confirmEmail must "
            "repeat the account's email. The last administrator of an organization with "
            "other members answers LAST_ADMINISTRATOR."
        ),
    )
    def delete_account(self, info: Info, confirm_email: str) -> AccountDeleted:
        account_delete(
            actor=require_viewer(info), request=_request(info), confirm_email=confirm_email
        )
        return AccountDeleted()

    @input_mutation(
        sensitive=True,
        description=(
            "Mail a confirmation link to newEmail (nothing changes until it is opened) and "
            "a notice with a revert link to the current address. An address of another "
            "account answers alike (its owner is told instead)."
        ),
    )
    def request_email_change(self, info: Info, new_email: str) -> EmailRequestAccepted:
        email_change_request(
            actor=require_viewer(info), request=_request(info), new_email=new_email
        )
        return EmailRequestAccepted()

    @input_mutation(description="Make the new address the account's email, with its token.")
    def confirm_email_change(self, info: Info, token: str) -> UserType:
        return email_change_confirm(request=_request(info), token=token)

    @input_mutation(
        description=(
            "From the old address (valid EMAIL_CHANGE_REVERT_LIFETIME): cancel the change or "
            "restore the old email, end every session and remove the password and the "
            "identities linked since (the account is being recovered)."
        )
    )
    def revert_email_change(self, info: Info, token: str) -> UserType:
        return email_change_revert(request=_request(info), token=token)
