"""The base of every back-office (``/api/v1/``) view: Django permissions, strict input, the actor rule."""

from rest_framework.generics import GenericAPIView

from config.api.permissions import EmployeePermission
from config.api.query_params import DeclaredQueryParams
from config.db_router import start_replica_reads, stop_replica_reads
from config.people import resolve_actor


class BackOfficeView(DeclaredQueryParams, GenericAPIView):
    permission_classes = [EmployeePermission]
    required_permissions: dict[str, str] = {}
    # Methods whose handler reads from the replica when one is configured (config/db_router.py): read-only lists
    # that tolerate a little lag. Authentication, permissions and throttling run before, on the primary.
    replica_methods: tuple[str, ...] = ()
    _replica_token = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in self.replica_methods:
            self._replica_token = start_replica_reads()

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:  # whatever happened, even an exception DRF re-raises: the next request starts on the primary
            if self._replica_token is not None:
                stop_replica_reads(self._replica_token)
                self._replica_token = None

    def actor(self, data: dict, field: str = "updated_by"):
        """The employee the write is made as: the caller, or whom a service account names in ``field`` (a
        granted employee, who must hold the endpoint's permission too)."""
        return resolve_actor(
            user=self.request.user,
            employee_id=data.get(field),
            field=field,
            permission=self.required_permissions.get(self.request.method),
        )

    def validated(self, serializer_class, data=None):
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
