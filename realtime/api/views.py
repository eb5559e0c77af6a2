from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny

from realtime.api.serializers import ChangesPageSerializer, ChangesQuerySerializer
from realtime.selectors import changes_page
from zora.api import ApiView, error_responses


class ChangesView(ApiView):
    """The events a phone missed while offline: the same authorized stream the socket delivers.

    Anonymous readers get the `public` events, as an anonymous socket does.
    """

    permission_classes = [AllowAny]
    serializer_class = ChangesPageSerializer

    @extend_schema(
        operation_id="changes_list",
        parameters=[ChangesQuerySerializer],
        responses={200: ChangesPageSerializer, **error_responses(400, 401)},
    )
    def get(self, request):
        query = self.validated_query(ChangesQuerySerializer)
        return self.render(changes_page(user=request.user, since=query["since"], limit=query["limit"]))
