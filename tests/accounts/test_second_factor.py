"""The second factor (issue #19, authenticator app and recovery codes) over the real
endpoint: setting it up, signing in with it, and the refusals (wrong, replayed and stale
codes, another browser, an expired challenge, rate limits, missing re-authentication)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import RecoveryCode, TotpDevice
from backend.crypto import InvalidToken, secret_decrypt
from tests.accounts.auth_helpers import admin_login, mails_to
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import PASSWORD, UserFactory
from tests.oidc_provider import bearer_post, browser_sign_in, provider_serving

pytestmark = pytest.mark.django_db(transaction=True)

SETUP = "... on TotpSetup { secret otpauthUri qrCodeSvg }"
CODES = "... on RecoveryCodes { codes }"
LOGIN = "... on User { email } ... on MfaChallenge { methods expiresAt }"
USER = "... on User { email }"
ME_MFA = "{ me { email mfa { totpEnabled recoveryCodesLeft } } }"
REAUTHENTICATED = "... on Reauthenticated { validUntil }"


@pytest.fixture
def ada():
    return UserFactory(email="ada@example.net", first_name="Ada")


def signed_in(user) -> GraphQLClient:
    client = GraphQLClient()
    assert client.mutate("login", {"email": user.email, "password": PASSWORD}, LOGIN) == {
        "__typename": "User",
        "email": user.email,
    }
    return client


def app_set_up(client: GraphQLClient) -> tuple[pyotp.TOTP, list[str]]:
    """Set up and confirm an authenticator app on ``client`` (signed in, re-authenticated):
    its TOTP and recovery codes."""
    setup = client.mutate("totpSetupBegin", None, SETUP)
    totp = pyotp.TOTP(setup["secret"])
    confirmed = client.mutate("totpSetupConfirm", {"code": totp.now()}, CODES)
    return totp, confirmed["codes"]


def enroll(user) -> tuple[pyotp.TOTP, list[str]]:
    """Set up and confirm an authenticator app for ``user``: its TOTP and recovery codes."""
    return app_set_up(signed_in(user).reauthenticated())


def signed_in_with(user, totp: pyotp.TOTP) -> GraphQLClient:
    """``user`` signed in with the password and the app's next code."""
    client, _ = challenged(user)
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)["__typename"] == "User"
    return client


def challenged(user) -> tuple[GraphQLClient, dict]:
    client = GraphQLClient()
    return client, client.mutate("login", {"email": user.email, "password": PASSWORD}, LOGIN)


def code_at(totp: pyotp.TOTP, steps: int) -> str:
    """The app's code ``steps`` time steps from now."""
    return totp.at(time.time() + 30 * steps)


def test_setting_up_an_app_answers_a_qr_code_then_recovery_codes(ada):
    client = signed_in(ada).reauthenticated()
    setup = client.mutate("totpSetupBegin", None, SETUP)
    assert setup["otpauthUri"].startswith("otpauth://totp/Roster:ada%40example.net?secret=")
    assert setup["qrCodeSvg"].startswith("<svg")
    assert client.execute(ME_MFA).data["me"]["mfa"] == {
        "totpEnabled": False,
        "recoveryCodesLeft": 0,
    }
    wrong = client.mutate("totpSetupConfirm", {"code": "000000"}, CODES)
    assert operation_codes(wrong) == ["MFA_CODE_INVALID"]
    mail.outbox.clear()
    codes = client.mutate("totpSetupConfirm", {"code": pyotp.TOTP(setup["secret"]).now()}, CODES)
    assert len(codes["codes"]) == 10 and len(set(codes["codes"])) == 10
    assert client.execute(ME_MFA).data["me"]["mfa"] == {
        "totpEnabled": True,
        "recoveryCodesLeft": 10,
    }
    [notice] = mails_to(ada.email)
    assert notice.subject == "An authenticator app now protects your Roster account"
    # At rest: the secret encrypted, the recovery codes hashed.
    stored = TotpDevice.objects.get(user=ada).secret
    assert setup["secret"] not in stored
    hashes = set(RecoveryCode.objects.filter(user=ada).values_list("code_hash", flat=True))
    assert not any(code.replace("-", "") in hashes or code in hashes for code in codes["codes"])
    again = client.mutate("totpSetupBegin", None, SETUP)
    assert operation_codes(again) == ["INVALID"]


def test_a_session_left_open_cannot_set_up_an_app(ada):
    # Whoever holds a session must not tie the account to their own app.
    client = signed_in(ada)
    refused = client.mutate("totpSetupBegin", None, SETUP)
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    setup = client.reauthenticated().mutate("totpSetupBegin", None, SETUP)
    client.reauthentication_forget()
    code = pyotp.TOTP(setup["secret"]).now()
    refused = client.mutate("totpSetupConfirm", {"code": code}, CODES)
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    assert not TotpDevice.objects.filter(confirmed_at__isnull=False).exists()


def test_setting_up_needs_a_signed_in_user(gql):
    assert operation_codes(gql.mutate("totpSetupBegin", None, SETUP)) == ["UNAUTHENTICATED"]


def test_signing_in_asks_for_the_second_factor_before_any_session(ada):
    totp, _ = enroll(ada)
    client, challenge = challenged(ada)
    assert challenge["__typename"] == "MfaChallenge"
    assert challenge["methods"] == ["TOTP", "RECOVERY_CODE"]
    assert client.execute(ME_MFA).data["me"] is None  # no session yet
    wrong = client.mutate("verifyMfa", {"code": "123456"}, USER)
    assert operation_codes(wrong) == ["MFA_CODE_INVALID"]
    # (The current step's code confirmed the setup: the next step's is new.)
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER) == {
        "__typename": "User",
        "email": ada.email,
    }
    assert client.execute(ME_MFA).data["me"]["email"] == ada.email
    # Single use: the completed challenge is gone.
    again = client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert operation_codes(again) == ["TOKEN_EXPIRED"]


def test_a_code_works_once_and_never_an_older_one(ada):
    totp, _ = enroll(ada)  # confirmed with the current step's code
    client, _ = challenged(ada)
    replayed = client.mutate("verifyMfa", {"code": totp.now()}, USER)
    assert operation_codes(replayed) == ["MFA_CODE_INVALID"]
    older = client.mutate("verifyMfa", {"code": code_at(totp, -1)}, USER)
    assert operation_codes(older) == ["MFA_CODE_INVALID"]
    # The next step's code (a clock one step ahead) is accepted, once.
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)["__typename"] == "User"
    other, _ = challenged(ada)
    replayed = other.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert operation_codes(replayed) == ["MFA_CODE_INVALID"]


def test_codes_that_are_not_six_ascii_digits_are_simply_wrong(ada):
    totp, _ = enroll(ada)
    client, _ = challenged(ada)
    # Digits of other scripts pass str.isdigit(); they must not reach the comparison.
    for code in ("\u0661\u0662\u0663\u0664\u0665\u0666", "\uff11" * 6, "12345", "1234567", ""):
        refused = client.mutate("verifyMfa", {"code": code, "recoveryCode": code}, USER)
        assert operation_codes(refused) == ["MFA_CODE_INVALID"], code
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)["__typename"] == "User"


def test_a_code_two_steps_away_is_refused(ada):
    client = signed_in(ada).reauthenticated()
    totp = pyotp.TOTP(client.mutate("totpSetupBegin", None, SETUP)["secret"])
    for steps in (-2, 2):
        late = client.mutate("totpSetupConfirm", {"code": code_at(totp, steps)}, CODES)
        assert operation_codes(late) == ["MFA_CODE_INVALID"]
    # One step of skew either way is tolerated.
    assert "codes" in client.mutate("totpSetupConfirm", {"code": code_at(totp, -1)}, CODES)


def test_the_challenge_belongs_to_the_browser_that_gave_the_password(ada):
    totp, _ = enroll(ada)
    challenged(ada)
    elsewhere = GraphQLClient()
    stolen = elsewhere.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert operation_codes(stolen) == ["TOKEN_EXPIRED"]
    assert elsewhere.execute(ME_MFA).data["me"] is None


def test_a_password_change_ends_a_sign_in_waiting_for_its_second_factor(ada):
    totp, _ = enroll(ada)
    # Someone who learned the password gets a challenge, then the owner changes it.
    attacker, _ = challenged(ada)
    owner = signed_in_with(ada, totp)
    changed = owner.mutate(
        "changePassword",
        {"currentPassword": PASSWORD, "newPassword": "a new long passphrase"},
        USER,
    )
    assert changed["__typename"] == "User"
    late = attacker.mutate("verifyMfa", {"code": code_at(totp, 2)}, USER)
    assert operation_codes(late) == ["TOKEN_EXPIRED"]
    assert attacker.execute(ME_MFA).data["me"] is None


def test_an_expired_challenge_is_refused(ada, settings):
    totp, _ = enroll(ada)
    settings.MFA_CHALLENGE_TTL = 0
    client, _ = challenged(ada)
    late = client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert operation_codes(late) == ["TOKEN_EXPIRED"]
    assert client.execute(ME_MFA).data["me"] is None


def test_a_recovery_code_signs_in_once_and_tells_the_owner(ada):
    _, codes = enroll(ada)
    client, _ = challenged(ada)
    mail.outbox.clear()
    answer = client.mutate("verifyMfa", {"recoveryCode": codes[0].upper()}, USER)
    assert answer["__typename"] == "User"
    assert client.execute(ME_MFA).data["me"]["mfa"]["recoveryCodesLeft"] == 9
    [notice] = mails_to(ada.email)
    assert "9 recovery codes left" in notice.body
    other, _ = challenged(ada)
    reused = other.mutate("verifyMfa", {"recoveryCode": codes[0]}, USER)
    assert operation_codes(reused) == ["MFA_CODE_INVALID"]


def test_wrong_codes_are_rate_limited_and_the_owner_is_told(ada, settings):
    enroll(ada)
    client, _ = challenged(ada)
    mail.outbox.clear()
    answers = [
        operation_codes(client.mutate("verifyMfa", {"code": f"{n:06d}"}, USER)) for n in range(11)
    ]
    assert answers[:10] == [["MFA_CODE_INVALID"]] * 10
    assert answers[10] == ["RATE_LIMITED"]
    [warning] = mails_to(ada.email)  # once, at MFA_FAILURES_NOTIFY failures
    assert warning.subject == "Wrong sign-in codes were entered for your Roster account"


def test_removing_the_app_needs_a_reauthentication_with_a_code(ada):
    totp, codes = enroll(ada)
    client, _ = challenged(ada)
    client.mutate("verifyMfa", {"recoveryCode": codes[1]}, USER)
    refused = client.mutate("totpDisable", None, USER)
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    without_code = client.mutate(
        "reauthenticate", {"password": PASSWORD}, "... on Reauthenticated { validUntil }"
    )
    assert operation_codes(without_code) == ["MFA_CODE_INVALID"]
    reauthenticated = client.mutate(
        "reauthenticate",
        {"password": PASSWORD, "code": code_at(totp, 1)},
        "... on Reauthenticated { validUntil }",
    )
    assert reauthenticated["__typename"] == "Reauthenticated"
    mail.outbox.clear()
    assert client.mutate("totpDisable", None, USER)["__typename"] == "User"
    [notice] = mails_to(ada.email)
    assert "removed" in notice.subject
    assert not TotpDevice.objects.filter(user=ada).exists()
    assert not RecoveryCode.objects.filter(user=ada).exists()
    signed_in(ada)  # no challenge any more


def test_regenerating_recovery_codes_needs_a_reauthentication(ada):
    totp, old = enroll(ada)
    client, _ = challenged(ada)
    client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    refused = client.mutate("recoveryCodesRegenerate", None, CODES)
    assert operation_codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    client.mutate(
        "reauthenticate",
        {"password": PASSWORD, "code": old[0]},  # a recovery code also re-authenticates
        "... on Reauthenticated { validUntil }",
    )
    new = client.mutate("recoveryCodesRegenerate", None, CODES)["codes"]
    assert set(new).isdisjoint(old)
    other, _ = challenged(ada)
    stale = other.mutate("verifyMfa", {"recoveryCode": old[2]}, USER)
    assert operation_codes(stale) == ["MFA_CODE_INVALID"]
    assert other.mutate("verifyMfa", {"recoveryCode": new[0]}, USER)["__typename"] == "User"


def test_nobody_else_sees_a_users_second_factor(ada, organization):
    ada.organization = organization
    ada.save()
    enroll(ada)
    colleague = UserFactory(organization=organization)
    answer = signed_in(colleague).execute(
        "{ organization { members(first: 10) { edges { node { email mfa { totpEnabled } } } } } }"
    )
    mfa = {
        e["node"]["email"]: e["node"]["mfa"]
        for e in answer.data["organization"]["members"]["edges"]
    }
    assert mfa[ada.email] is None
    assert mfa[colleague.email] == {"totpEnabled": False}


def test_the_secret_survives_a_key_rotation(ada, settings):
    settings.FIELD_ENCRYPTION_KEY = ["first key"]
    totp, _ = enroll(ada)
    settings.FIELD_ENCRYPTION_KEY = ["second key", "first key"]  # rotation: new key first
    client, _ = challenged(ada)
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)["__typename"] == "User"
    # Re-encrypted under the new key on use: the old key can go.
    settings.FIELD_ENCRYPTION_KEY = ["second key"]
    assert secret_decrypt(TotpDevice.objects.get(user=ada).secret) == totp.secret
    settings.FIELD_ENCRYPTION_KEY = ["third key"]
    with pytest.raises(InvalidToken):
        secret_decrypt(TotpDevice.objects.get(user=ada).secret)


# Other ways in: the identity provider, an access token, the Django admin.


@pytest.fixture
def oidc_provider(settings):
    yield from provider_serving(settings)


def enroll_here(client: GraphQLClient) -> pyotp.TOTP:
    """Set up an authenticator app for the account signed in through the provider on
    ``client``, after re-authenticating there."""
    browser_sign_in(client.http, authenticate_query={"reauthenticate": "1"})
    return app_set_up(client)[0]


def test_a_provider_sign_in_without_multi_factor_asks_for_the_second_factor(oidc_provider):
    first = GraphQLClient()
    browser_sign_in(first.http)  # creates ada@example.net, signed in through the provider
    totp = enroll_here(first)

    client = GraphQLClient()
    response, _, _ = browser_sign_in(client.http)
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_REDIRECT_URL}?mfa=required"
    assert client.execute(ME_MFA).data["me"] is None
    answer = client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert answer == {"__typename": "User", "email": "ada@example.net"}

    # The provider did multi-factor itself (RFC 8176 amr): signed in at once.
    oidc_provider.id_token_claims = {"amr": ["pwd", "otp"]}
    trusted = GraphQLClient()
    response, _, _ = browser_sign_in(trusted.http)
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert trusted.execute(ME_MFA).data["me"]["email"] == "ada@example.net"


def test_a_provider_reauthentication_without_multi_factor_is_finished_with_a_code(
    oidc_provider,
):
    client = GraphQLClient()
    browser_sign_in(client.http)  # an account without a password
    totp = enroll_here(client)
    client.reauthentication_forget()

    def regenerate():
        return client.mutate("recoveryCodesRegenerate", None, CODES)

    # Without a provider re-authentication, a code alone opens nothing.
    alone = client.mutate("reauthenticate", {"code": code_at(totp, 1)}, REAUTHENTICATED)
    assert [(m["field"], m["code"]) for m in alone["messages"]] == [("password", "INVALID")]

    response, _, _ = browser_sign_in(client.http, authenticate_query={"reauthenticate": "1"})
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["MFA_REQUIRED"]
    assert operation_codes(regenerate()) == ["REAUTHENTICATION_REQUIRED"]
    wrong = client.mutate("reauthenticate", {"code": "000000"}, REAUTHENTICATED)
    assert operation_codes(wrong) == ["MFA_CODE_INVALID"]
    right = client.mutate("reauthenticate", {"code": code_at(totp, 1)}, REAUTHENTICATED)
    assert right["__typename"] == "Reauthenticated"
    assert len(regenerate()["codes"]) == 10
    # Used up: the next time needs the provider again.
    client.reauthentication_forget()
    again = client.mutate("reauthenticate", {"code": code_at(totp, 2)}, REAUTHENTICATED)
    assert operation_codes(again) == ["INVALID"]
    # A provider that asked for a second factor itself is enough on its own.
    oidc_provider.id_token_claims = {"amr": ["pwd", "mfa"]}
    response, _, _ = browser_sign_in(client.http, authenticate_query={"reauthenticate": "1"})
    assert "error" not in parse_qs(urlsplit(response["Location"]).query)
    assert len(regenerate()["codes"]) == 10


def test_an_access_token_sign_in_asks_for_the_second_factor(oidc_provider):
    first = GraphQLClient()
    browser_sign_in(first.http)
    totp = enroll_here(first)
    client = GraphQLClient()
    token = oidc_provider.access_token_issue()
    answer = client.mutate("loginExternal", {"accessToken": token}, LOGIN)
    assert answer["__typename"] == "MfaChallenge"
    assert client.execute(ME_MFA).data["me"] is None
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)["__typename"] == "User"


def test_a_provider_multi_factor_access_token_signs_in_at_once(oidc_provider):
    first = GraphQLClient()
    browser_sign_in(first.http)
    enroll_here(first)
    token = oidc_provider.access_token_issue(amr=["pwd", "mfa"])
    answer = GraphQLClient().mutate("loginExternal", {"accessToken": token}, LOGIN)
    assert answer == {"__typename": "User", "email": "ada@example.net"}


@pytest.mark.parametrize("as_jwt", [False, True], ids=["introspected", "jwt"])
def test_a_bearer_token_does_not_skip_the_second_factor(oidc_provider, as_jwt):
    ME = "{ me { email } }"
    first = GraphQLClient()
    browser_sign_in(first.http)
    # A token validated (and remembered) before the factor was set up.
    earlier = oidc_provider.access_token_issue(as_jwt=as_jwt)
    assert bearer_post(ME, earlier).json()["data"]["me"] == {"email": "ada@example.net"}
    enroll_here(first)

    for token in (earlier, oidc_provider.access_token_issue(as_jwt=as_jwt)):
        refused = bearer_post(ME, token)
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"] == 'Bearer error="insufficient_user_authentication"'
        assert refused.json()["errors"][0]["extensions"]["code"] == "MFA_REQUIRED"
        assert "ada@example.net" not in refused.content.decode()
    # A single-factor amr is not enough; a token of a multi-factor sign-in is.
    single = oidc_provider.access_token_issue(as_jwt=as_jwt, amr=["pwd"])
    assert bearer_post(ME, single).status_code == 401
    strong = oidc_provider.access_token_issue(as_jwt=as_jwt, amr=["pwd", "mfa"])
    assert bearer_post(ME, strong).json()["data"]["me"] == {"email": "ada@example.net"}


def test_the_admin_refuses_a_password_alone_for_an_account_with_a_second_factor():
    staff = UserFactory(is_staff=True, is_superuser=True)
    totp, _ = enroll(staff)
    client = GraphQLClient()
    response = admin_login(client, staff.email, PASSWORD)
    assert response.status_code == 403
    assert b"This account has a second factor" in response.content
    assert "_auth_user_id" not in client.http.session
    # Signed in through Roster with the second factor, the same browser opens the admin.
    client.mutate("login", {"email": staff.email, "password": PASSWORD}, LOGIN)
    client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert client.http.get("/admin/").status_code == 200


def test_the_admin_is_closed_to_staff_who_must_set_up_a_second_factor(organization):
    staff = UserFactory(is_staff=True, is_superuser=True, organization=organization)
    organization.mfa_required = True
    organization.save()
    client = GraphQLClient()
    response = admin_login(client, staff.email, PASSWORD)
    assert response.status_code == 403
    assert b"requires a second factor" in response.content
    assert "_auth_user_id" not in client.http.session
    # Signed in through Roster (limited to enrolling), the admin stays closed...
    client = signed_in(staff)
    assert client.http.get("/admin/").status_code == 302
    # ...until the factor is set up.
    client.reauthenticated()
    totp = pyotp.TOTP(client.mutate("totpSetupBegin", None, SETUP)["secret"])
    client.mutate("totpSetupConfirm", {"code": totp.now()}, CODES)
    assert client.http.get("/admin/").status_code == 200


def test_codes_cannot_be_guessed_in_batches_of_aliases(ada):
    totp, _ = enroll(ada)
    client, _ = challenged(ada)
    guesses = " ".join(
        f'g{n}: verifyMfa(input: {{code: "{n:06d}"}}) {{ __typename }}' for n in range(20)
    )
    result = client.execute(f"mutation {{ {guesses} }}")
    assert result.errors and result.data is None  # refused whole, before any try
    # The challenge is untouched and no try was counted: the right code still works.
    assert client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)["__typename"] == "User"


# The organization's policy.

POLICY = "... on Organization { mfaRequired }"
ENROLLMENT = "{ me { email mfaEnrollmentRequired } }"


@pytest.fixture
def staff(organization):
    """An administrator and a plain member of one organization (with its groups)."""
    from accounts.services.groups import permission_groups_setup
    from tests.factories import administrator

    permission_groups_setup()
    return administrator(organization=organization), UserFactory(organization=organization)


def test_only_administrators_set_the_policy(staff):
    admin, member = staff
    refused = signed_in(member).mutate("updateOrganization", {"mfaRequired": True}, POLICY)
    assert operation_codes(refused) == ["PERMISSION_DENIED"]
    answer = signed_in(admin).mutate("updateOrganization", {"mfaRequired": True}, POLICY)
    assert answer == {"__typename": "Organization", "mfaRequired": True}
    # Members read the policy through ``me`` (which stays open to them until they enroll).
    answer = signed_in(member).execute("{ me { organization { mfaRequired } } }")
    assert answer.data["me"]["organization"] == {"mfaRequired": True}


def test_a_member_without_a_second_factor_may_only_set_one_up(staff):
    admin, member = staff
    totp, _ = enroll(admin)
    admin.organization.mfa_required = True
    admin.organization.save()
    # The enrolled administrator is not limited.
    admin_client, _ = challenged(admin)
    admin_client.mutate("verifyMfa", {"code": code_at(totp, 1)}, USER)
    assert admin_client.execute("{ contacts(first: 1) { totalCount } }").errors == []

    client = signed_in(member)  # signed in, but limited
    assert client.execute(ENROLLMENT).data["me"] == {
        "email": member.email,
        "mfaEnrollmentRequired": True,
    }
    shell = client.execute(
        "query Shell { me { ...Me ...Me organization { __typename name mfaRequired } } }"
        " fragment Me on User { id firstName mfa { totpEnabled passkeyCount } }"
    )
    assert shell.errors == [] and shell.data["me"]["organization"]["mfaRequired"] is True
    for document in (
        "{ contacts(first: 1) { totalCount } }",
        "{ me { email } organization { name } }",  # one field outside is enough
        "query { ...Sneaky } fragment Sneaky on Query { contacts(first: 1) { totalCount } }",
        # Through ``me``: the organization's members, the directory, sessions, groups.
        "{ me { organization { name members(first: 5) { edges { node { email } } } } } }",
        "{ me { ... on User { organization { ...Members } } } }"
        " fragment Members on Organization { members(first: 5) { totalCount } }",
        "{ me { profileContact { fullName } } }",
        "{ me { sessions(first: 5) { __typename } } }",
        "{ me { permissionGroups { name } } }",
        'mutation { updateProfile(input: {firstName: "X"}) { __typename } }',
    ):
        result = client.execute(document)
        assert result.data is None, document
        assert result.error_codes() == ["MFA_REQUIRED"], document
    # Re-authenticating and setting a factor up (and signing out) stay open; then
    # everything is.
    assert operation_codes(client.mutate("totpSetupBegin", None, SETUP)) == [
        "REAUTHENTICATION_REQUIRED"
    ]
    client.reauthenticated()
    totp = pyotp.TOTP(client.mutate("totpSetupBegin", None, SETUP)["secret"])
    client.mutate("totpSetupConfirm", {"code": totp.now()}, CODES)
    assert client.execute(ENROLLMENT).data["me"]["mfaEnrollmentRequired"] is False
    assert client.execute("{ contacts(first: 1) { totalCount } }").errors == []


def test_a_sign_in_cannot_carry_a_member_past_the_policy(staff, organization):
    admin, member = staff
    organization.mfa_required = True
    organization.save()
    login = {"email": member.email, "password": PASSWORD}
    # The sign-in's own answer: signed in, but the members are not shown.
    client = GraphQLClient()
    answer = client.execute(
        "mutation($input: LoginInput!) { login(input: $input) { ... on User { email"
        " organization { members(first: 10) { edges { node { email } } } } } } }",
        {"input": login},
    )
    assert answer.data is None and answer.error_codes() == ["MFA_REQUIRED"]
    assert client.execute(ENROLLMENT).data["me"]["mfaEnrollmentRequired"] is True
    # An answer within the enrollment's view is given.
    allowed = GraphQLClient().execute(
        "mutation($input: LoginInput!) { login(input: $input) { __typename ... on User {"
        " email mfaEnrollmentRequired organization { name mfaRequired } } } }",
        {"input": login},
    )
    assert allowed.errors == [] and allowed.data["login"]["mfaEnrollmentRequired"] is True
    # Nothing runs after a sign-in in its document, fragments or not: an administrator
    # without a factor cannot lift the policy in the request that signs them in.
    lift = "updateOrganization(input: {mfaRequired: false}) { __typename }"
    sign_in = f'login(input: {{email: "{admin.email}", password: "{PASSWORD}"}}) {{ __typename }}'
    for document in (
        f"mutation {{ {sign_in} {lift} }}",
        f"mutation {{ ...F }} fragment F on Mutation {{ {sign_in} {lift} }}",
        f"mutation {{ {lift} }} mutation Other {{ {sign_in} }}",
    ):
        refused = GraphQLClient().execute(document)
        assert refused.data is None and refused.errors, document
    organization.refresh_from_db()
    assert organization.mfa_required is True


def test_joining_an_organization_with_the_policy_shows_only_its_name(staff, organization):
    from accounts.services.invitations import invitation_create

    admin, _ = staff
    organization.mfa_required = True
    organization.save()
    carol = UserFactory(email="carol@example.net")
    invitation_create(actor=admin, email=carol.email, permission_group_names=[])
    token = mails_to(carol.email)[-1].body.split("token=")[1].split()[0]
    client = GraphQLClient().login_as(carol)
    answer = client.execute(
        "mutation($t: String!) { acceptInvitation(input: {token: $t}) {"
        " ... on Organization { name members(first: 5) { totalCount } } } }",
        {"t": token},
    )
    assert answer.data is None and answer.error_codes() == ["MFA_REQUIRED"]
    assert client.execute(ENROLLMENT).data["me"]["mfaEnrollmentRequired"] is True


def test_administrators_see_who_is_enrolled_and_others_do_not(staff):
    admin, member = staff
    enroll(member)
    query = (
        "{ organization { members(first: 10) { edges { node { email mfa { totpEnabled } } } } } }"
    )

    def statuses(user):
        client = GraphQLClient().login_as(user)
        edges = client.execute(query).data["organization"]["members"]["edges"]
        return {e["node"]["email"]: e["node"]["mfa"] for e in edges}

    assert statuses(admin) == {
        admin.email: {"totpEnabled": False},
        member.email: {"totpEnabled": True},
    }
    assert statuses(member) == {admin.email: None, member.email: {"totpEnabled": True}}


def test_the_members_second_factors_cost_no_query_per_member(
    staff, organization, django_assert_num_queries
):
    admin, _ = staff
    query = (
        "{ organization { members(first: 50) { edges { node { email"
        " mfa { totpEnabled recoveryCodesLeft } } } } } }"
    )
    client = signed_in(admin)
    client.execute(query)
    with CaptureQueriesContext(connection) as two_members:
        client.execute(query)
    UserFactory.create_batch(20, organization=organization)
    with django_assert_num_queries(len(two_members.captured_queries)):
        answer = client.execute(query)
    assert len(answer.data["organization"]["members"]["edges"]) == 22


def test_managing_an_app_that_is_not_there_is_invalid(ada):
    client = signed_in(ada).reauthenticated()
    assert operation_codes(client.mutate("totpSetupConfirm", {"code": "123456"}, CODES)) == [
        "INVALID"
    ]
    assert operation_codes(client.mutate("totpDisable", None, USER)) == ["INVALID"]
    assert operation_codes(client.mutate("recoveryCodesRegenerate", None, CODES)) == ["INVALID"]


def test_factors_set_up_before_an_address_was_proven_go_when_its_owner_proves_it():
    # Defence in depth: whatever an account held before its owner proved the address
    # (made by staff, say) is not the owner's, second factors included.
    from accounts.models import Passkey

    user = UserFactory(email="grace@example.net", email_verified=False)
    TotpDevice.objects.create(user=user, secret="x", confirmed_at=timezone.now())
    Passkey.objects.create(user=user, credential_id=b"c", public_key=b"k", name="Theirs")
    client = GraphQLClient()
    client.mutate("requestPasswordReset", {"email": user.email}, "__typename")
    token = mails_to(user.email)[-1].body.split("token=")[1].split()[0]
    reset = client.mutate(
        "resetPassword", {"token": token, "newPassword": "a brand new passphrase"}, USER
    )
    assert reset["__typename"] == "User"
    assert not TotpDevice.objects.filter(user=user).exists()
    assert not Passkey.objects.filter(user=user).exists()
