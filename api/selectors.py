"""What an API client may see: the cases of its court and the courts below it, or the cases handed to its
organisation. The same rule for reads and for webhook events."""

from __future__ import annotations

from django.db.models import Q

from api.models import ApiClient
from mediation.exceptions import PermissionDenied
from mediation.models import Case
from mediation.selectors.statistics import court_ids_below


def client_case_filter(client: ApiClient) -> Q:
    organisation = client.organisation
    if organisation.is_court:
        return Q(court_id__in=sorted(court_ids_below(organisation.pk)))
    return Q(mediation_organisation_id=organisation.pk)


def case_get_for_client(*, client: ApiClient, reference: str) -> Case:
    """The case, if the client may see it; one refusal for "absent" and "not yours"."""
    case = Case.objects.filter(client_case_filter(client), reference=reference).select_related("court").first()
    if case is None:
        raise PermissionDenied("case not found")
    return case

