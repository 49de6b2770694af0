"""What each action of the audit trail is called, for the supervisors' console: one table, in English here and in
every language through the catalogues. ``tests/unit/supervision/test_actions.py`` finds every action the code can
write and checks that it is named here; the console shows an action it does not know (an older version's, one
written by hand) by its code.
"""

from __future__ import annotations

from collections.abc import Mapping

from bidding.i18n import N_, Message

ACTION_NAMES: Mapping[str, Message] = {
    # Organisations and people.
    "organisation.created": N_("Organisation registered"),
    "organisation.updated": N_("Organisation edited"),
    "organisation.disabled": N_("Organisation disabled"),
    "organisation.enabled": N_("Organisation enabled"),
    "user.created": N_("Account created"),
    "user.updated": N_("Account edited"),
    "user.disabled": N_("Account disabled"),
    "user.enabled": N_("Account enabled"),
    "user.password_reset": N_("Password reset by an administrator"),
    "user.signed_in": N_("Signed in"),
    "user.signed_out": N_("Signed out"),
    "user.password_changed": N_("Password changed"),
    "user.language_changed": N_("Language changed"),
    "api_token.created": N_("API token created"),
    "api_token.revoked": N_("API token revoked"),
    "key.registered": N_("Key registered"),
    # Tenders.
    "tender.drafted": N_("Tender drafted"),
    "tender.draft_updated": N_("Draft edited"),
    "tender.document_uploaded": N_("Tender document uploaded"),
    "tender.custody_recorded": N_("Opening key ceremony recorded"),
    "tender.published": N_("Tender published"),
    "tender.amended": N_("Tender amended"),
    "tender.cancelled": N_("Tender cancelled"),
    "tender.registered": N_("Registered for the tender"),
    "tender.document_downloaded": N_("Tender document downloaded"),
    "tender.question_asked": N_("Question asked"),
    "tender.question_answered": N_("Question answered"),
    "tender.answer_corrected": N_("Answer corrected"),
    # Bids and the opening.
    "bid.submitted": N_("Bid submitted"),
    "bid.replaced": N_("Bid replaced"),
    "bid.withdrawn": N_("Bid withdrawn"),
    "bid.opened": N_("Bid opened"),
    "bid.revoked": N_("Bid revoked"),
    "tender.opening_started": N_("Opening started"),
    "custody.share_checked": N_("Share checked by its custodian"),
    "opening.share_handed_in": N_("Key share handed in"),
    "opening.key_rebuilt": N_("Opening key rebuilt"),
    "opening.line_confirmed": N_("Opening line confirmed by the bidder"),
    "opening.objection": N_("Objection to the opening"),
    "opening.objection_answered": N_("Objection answered"),
    "tender.opened": N_("Opening record signed"),
    # The expert pool and the draw.
    "expert.created": N_("Expert added to the pool"),
    "expert.updated": N_("Expert's profile edited"),
    "expert.suspended": N_("Expert suspended"),
    "expert.retired": N_("Expert retired"),
    "expert.reinstated": N_("Expert reinstated"),
    "expert.declarations_changed": N_("Expert's availability and conflicts changed"),
    "draw.committed": N_("Expert draw committed"),
    "draw.contribution_committed": N_("Supervisor's contribution committed"),
    "draw.code_revealed": N_("Platform's one-time code revealed"),
    "draw.drawn": N_("Experts drawn"),
    "draw.void": N_("Expert draw void"),
    "invitation.sent": N_("Expert invited"),
    "invitation.accepted": N_("Invitation accepted"),
    "invitation.declined": N_("Invitation declined"),
    "invitation.declared": N_("No-conflict declaration made"),
    "invitation.recused": N_("Expert recused"),
    "invitation.expired": N_("Invitation expired"),
    "invitation.seat_open": N_("Committee seat open, no reserve left"),
}
