from datetime import UTC, datetime, timedelta

import pytest

from bidding.accounts import model
from bidding.accounts.model import NewOrganisation, NewUser
from bidding.errors import InvalidInput
from bidding.identity import PLATFORM, Actor, OrganisationKind, Principal, Role

# Published codes of well-known companies, whose check characters are right by construction.
REAL_CODES = ["9144030071526726XG", "914403001922038216", "91110000802100433B", "91350100M000100Y43"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_credit_codes_are_valid(code: str) -> None:
    assert model.credit_code_problem(code) is None
    assert model.credit_code_check_character(code[:17]) == code[17]


def test_check_character_weights_are_powers_of_three_mod_31() -> None:
    assert model.CREDIT_CODE_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_check_character_wraps_31_to_zero() -> None:
    # A sum that is a multiple of 31 gives the check character "0", not "31".
    assert model.credit_code_check_character("0" * 17) == "0"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("9144030071526726X", "has 18 characters"),
        ("9144030071526726XGG", "has 18 characters"),
        ("9144030071526726XI", "cannot appear"),
        ("91440300715267260Z", "cannot appear"),
        ("91A4030071526726XG", "region code"),
        ("9144030071526726XH", "should be G"),
    ],
)
def test_malformed_credit_codes_say_what_is_wrong(code: str, text: str) -> None:
    problem = model.credit_code_problem(code)
    assert problem is not None
    assert text in problem.render(str)


def test_every_single_character_typo_is_caught() -> None:
    code = REAL_CODES[0]
    for position in range(17):
        for replacement in model.CREDIT_CODE_ALPHABET:
            if replacement != code[position]:
                typo = code[:position] + replacement + code[position + 1 :]
                if typo[2:8].isdigit():
                    assert model.credit_code_problem(typo) is not None, typo


def test_credit_codes_are_normalised_from_typing() -> None:
    assert model.normalise_credit_code(" 9144 0300 7152 6726 xg ") == "9144030071526726XG"


def test_a_bidder_needs_a_credit_code() -> None:
    with pytest.raises(InvalidInput) as raised:
        model.validate_new_organisation(NewOrganisation(OrganisationKind.BIDDER, "华建", "示范市"))
    assert set(raised.value.errors) == {"credit_code"}


def test_organisation_validation_lists_every_wrong_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        model.validate_new_organisation(NewOrganisation(OrganisationKind.AGENCY, "  ", "x" * 101, "123"))
    assert set(raised.value.errors) == {"name", "region", "credit_code"}


def test_an_english_name_over_the_limit_is_refused_by_its_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        model.validate_new_organisation(
            NewOrganisation(OrganisationKind.AGENCY, "明诚招标", "示范市", None, "M" * (model.MAX_NAME_LENGTH + 1))
        )
    assert set(raised.value.errors) == {"name_en"}


def test_organisation_names_are_trimmed_and_stripped_of_control_characters() -> None:
    organisation = model.validate_new_organisation(
        NewOrganisation(OrganisationKind.AGENCY, "  明诚\x00 招标  ", " 示范市 ", None, " ")
    )
    assert (organisation.name, organisation.region, organisation.name_en) == ("明诚 招标", "示范市", None)


def _user(**changes: object) -> NewUser:
    values: dict[str, object] = {
        "login": "Li.Na",
        "display_name": "李娜",
        "password": "a long enough password",
        "roles": [Role.AGENCY_STAFF],
    }
    values.update(changes)
    return NewUser(**values)  # type: ignore[arg-type]  # each test passes NewUser's own fields


def test_logins_are_lower_cased() -> None:
    assert model.validate_new_user(_user(), OrganisationKind.AGENCY).login == "li.na"


@pytest.mark.parametrize("login", ["ab", "-abc", "a b c", "张三丰", "x" * 65])
def test_malformed_logins_are_refused(login: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        model.validate_new_user(_user(login=login), OrganisationKind.AGENCY)
    assert set(raised.value.errors) == {"login"}


@pytest.mark.parametrize(
    ("password", "text"),
    [
        ("short", "at least 10"),
        ("x" * 257, "at most 256"),
        ("my-li.na-password", "contain the login"),
        ("abababababab", "repeat"),
    ],
)
def test_weak_passwords_are_refused(password: str, text: str) -> None:
    problem = model.password_problem(password, "li.na")
    assert problem is not None and text in problem.render(str)


def test_passwords_are_nfkc_normalised() -> None:
    # A full-width "Ａ" typed on a Chinese keyboard is the same password as "A".
    assert model.normalise_password("Ａpassword") == "Apassword"


@pytest.mark.parametrize(
    ("roles", "kind", "allowed"),
    [
        ([Role.BIDDER], OrganisationKind.BIDDER, True),
        ([Role.BIDDER], OrganisationKind.AGENCY, False),
        ([Role.BIDDER], None, False),
        ([Role.AGENCY_STAFF], OrganisationKind.PURCHASER, True),
        ([Role.AGENCY_STAFF, Role.CUSTODIAN], OrganisationKind.AGENCY, True),
        ([Role.CUSTODIAN], OrganisationKind.BIDDER, False),
        ([Role.EXPERT], None, True),
        ([Role.EXPERT], OrganisationKind.PLATFORM, False),
        ([Role.EXPERT, Role.BIDDER], OrganisationKind.BIDDER, False),
        ([Role.ADMIN], OrganisationKind.PLATFORM, True),
        ([Role.SUPERVISOR], OrganisationKind.AGENCY, False),
        ([Role.ADMIN, Role.SUPERVISOR], OrganisationKind.PLATFORM, False),
        ([], OrganisationKind.PLATFORM, False),
    ],
)
def test_roles_must_suit_the_organisation(roles: list[Role], kind: OrganisationKind | None, allowed: bool) -> None:
    assert (model.roles_problem(roles, kind) is None) is allowed


def test_role_problems_name_the_roles_in_the_readers_language() -> None:
    problem = model.roles_problem([Role.ADMIN, Role.SUPERVISOR], OrganisationKind.PLATFORM)
    assert problem is not None
    assert problem.render(str) == "One person cannot be both Administrator and Supervisor."


def _principal(*roles: Role, organisation_id: int | None = 7) -> Principal:
    return Principal(1, "x", "X", "en", frozenset(roles), organisation_id, None, None, "session", b"")


def test_people_see_only_their_own_organisation() -> None:
    bidder = Actor(_principal(Role.BIDDER, organisation_id=7))
    assert model.may_read_organisation(bidder, 7)
    assert not model.may_read_organisation(bidder, 8)
    for role in (Role.ADMIN, Role.SUPERVISOR):
        assert model.may_read_organisation(Actor(_principal(role, organisation_id=1)), 8)
    assert model.may_read_organisation(PLATFORM, 8)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer bid_abc", "bid_abc"),
        ("bearer   bid_abc ", "bid_abc"),
        ("Basic bid_abc", None),
        ("Bearer abc", None),
        ("Bearer bid_" + "a" * 200, None),
        ("", None),
    ],
)
def test_bearer_tokens_are_read_from_the_authorization_header(header: str, token: str | None) -> None:
    assert model.bearer_token(header) == token


def test_credentials_are_stored_as_sha256() -> None:
    assert len(model.credential_hash("bid_x")) == 32
    assert model.credential_hash("bid_x") != model.credential_hash("bid_y")


def test_a_login_locks_after_the_limit_until_the_limit_th_newest_failure_leaves_the_window() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    failures = [now - timedelta(minutes=m) for m in range(5)]  # newest first
    assert model.locked_until(failures[:4], 5) is None
    assert model.locked_until(failures, 5) == failures[4] + model.SIGN_IN_WINDOW


def test_the_login_back_off_starts_at_the_eleventh_attempt_and_doubles_up_to_fifteen_minutes() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    failures = [now - timedelta(seconds=s) for s in range(40)]  # newest first
    assert model.backoff_until(failures[:9]) is None
    waits = [model.backoff_until(failures[:n]) for n in (10, 11, 12, 13, 14, 40)]
    assert [wait - now for wait in waits if wait] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)]


def _failures(
    now: datetime, *, here: int = 0, everywhere: int = 0, address: int = 0, known: bool = False
) -> model.RecentFailures:
    def times(count: int) -> list[datetime]:
        return [now - timedelta(seconds=s) for s in range(count)]

    return model.RecentFailures(now, times(here), times(everywhere), times(address), known)


def test_a_sign_in_is_paused_by_whichever_limit_lifts_last_and_a_known_address_skips_the_back_off() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert model.sign_in_paused_until(_failures(now, here=4, everywhere=9, address=29)) is None
    assert model.sign_in_paused_until(_failures(now, here=5, everywhere=5)) == now - timedelta(seconds=4) + timedelta(
        minutes=15
    )
    assert model.sign_in_paused_until(_failures(now, address=30)) is not None
    assert model.sign_in_paused_until(_failures(now, everywhere=12)) == now + timedelta(minutes=4)
    assert model.sign_in_paused_until(_failures(now, everywhere=12, known=True)) is None
    assert model.sign_in_paused_until(_failures(now, here=5, everywhere=12, known=True)) is not None, (
        "still paused here"
    )
    # A pause already over is no pause.
    assert model.sign_in_paused_until(_failures(now + timedelta(minutes=20), everywhere=0)) is None


def test_a_made_up_password_has_four_groups_of_unambiguous_characters_and_passes_the_rules() -> None:
    password = model.temporary_password()
    groups = password.split("-")
    assert [len(group) for group in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(model.TEMPORARY_PASSWORD_ALPHABET)
    assert not set("0o1li") & set(password)
    assert model.password_problem(password, "someone") is None
    assert model.temporary_password(lambda alphabet: alphabet[0]) == "aaaa-aaaa-aaaa-aaaa"


def test_changes_leave_out_what_they_do_not_name_and_differences_list_before_and_after() -> None:
    current = model.Profile("李娜", None, "zh-CN", [Role.AGENCY_STAFF])
    changed = model.changed_profile(current, model.UserChanges(display_name_en="Li Na"))
    assert changed == model.Profile("李娜", "Li Na", "zh-CN", [Role.AGENCY_STAFF])
    assert model.differences({"a": 1, "b": None}, {"a": 1, "b": "x"}) == {"b": [None, "x"]}
    organisation = NewOrganisation(OrganisationKind.AGENCY, "明诚", "示范市", None, "Mingcheng")
    cleared = model.changed_organisation(organisation, model.OrganisationChanges(name_en=None, region="示范市高新区"))
    assert cleared == NewOrganisation(OrganisationKind.AGENCY, "明诚", "示范市高新区", None, None)


def test_an_edited_profile_is_checked_as_at_creation() -> None:
    with pytest.raises(InvalidInput) as raised:
        model.validate_profile(
            model.Profile(" ", "x" * 101, "fr", [Role.ADMIN, Role.SUPERVISOR]), OrganisationKind.PLATFORM
        )  # type: ignore[arg-type]  # an unknown language on purpose
    assert set(raised.value.errors) == {"display_name", "display_name_en", "language", "roles"}
    profile = model.validate_profile(
        model.Profile("  Helen   Zhao ", " ", "en", [Role.SUPERVISOR]), OrganisationKind.PLATFORM
    )
    assert (profile.display_name, profile.display_name_en) == ("Helen Zhao", None)


def test_a_kind_change_is_refused_naming_the_member_whose_roles_forbid_it() -> None:
    members = [("li.na", [Role.CUSTODIAN]), ("wang", [Role.AGENCY_STAFF])]
    assert model.kind_change_problem(members, OrganisationKind.PURCHASER) is None
    problem = model.kind_change_problem(members, OrganisationKind.BIDDER)
    assert problem is not None and problem.params["login"] == "li.na"
