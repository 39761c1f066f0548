"""django-fsm-2's ``ConcurrentTransitionMixin``, cheaper to load.

The mixin remembers each row's state when it is loaded, so that a save whose state changed underneath fails
(``ConcurrentTransition``). It finds the state fields by walking every field of the model for each instance
loaded: 50 rows of a changelist walked 30 fields each on every page. Here the state fields are found once per
model, and the state is read from the loaded row (a deferred state field is still read as django-fsm reads it).
The behaviour, including the check at save, is django-fsm-2's own.
"""

from __future__ import annotations

import django_fsm
from django_fsm import FSMFieldMixin


class ConcurrentTransitionMixin(django_fsm.ConcurrentTransitionMixin):
    @property
    def state_fields(self):
        cls = type(self)
        fields = cls.__dict__.get("_fsm_state_fields")
        if fields is None:
            fields = tuple(field for field in self._meta.fields if isinstance(field, FSMFieldMixin))
            cls._fsm_state_fields = fields
        return fields

    def _update_initial_state(self) -> None:
        loaded = self.__dict__
        self._ConcurrentTransitionMixin__initial_states = {
            field.attname: loaded[field.attname] if field.attname in loaded else field.value_from_object(self)
            for field in self.state_fields
        }
