"""What portal forms share: a service's refusal shown where the person looks for it."""

from django import forms

from zora.errors import ServiceError


def add_service_error(form: forms.Form, exc: ServiceError) -> None:
    """On the field the service named when the form has it, else above the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
