"""What an API client may see: the cases of its court and the courts below it, or the cases handed to its
organisation. The same rule for reads and for webhook events."""

from __future__ import annotations

from django.db.models import Q

from api.models import ApiClient
from mediation.exceptions import PermissionDenied
from mediation.models import ApplicationDraft, Case
from mediation.selectors.statistics import court_ids_below


def client_case_filter(client: ApiClient) -> Q:
    organisation = client.organisation
    if organisation.is_court:
        return Q(court_id__in=sorted(court_ids_below(organisation.pk)))
    # A partner also follows the applications it prepared for a party, once the party submitted them (D39).
    return Q(mediation_organisation_id=organisation.pk) | Q(draft__prepared_by_id=organisation.pk)


def prepared_get_for_client(*, client: ApiClient, draft_id: int) -> ApplicationDraft:
    """An application the client's organisation prepared; one refusal for "absent" and "not yours"."""
    draft = ApplicationDraft.objects.filter(pk=draft_id, prepared_by_id=client.organisation_id).select_related(
        "case").first()
    if draft is None:
        raise PermissionDenied("application not found")
    return draft


def case_get_for_client(*, client: ApiClient, reference: str) -> Case:
    """The case, if the client may see it; one refusal for "absent" and "not yours"."""
    case = Case.objects.filter(client_case_filter(client), reference=reference).select_related("court").first()
    if case is None:
        raise PermissionDenied("case not found")
    return case

