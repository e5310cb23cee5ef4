from django.apps import AppConfig


class CompanyOSConfig(AppConfig):
    name = "companyos"
    verbose_name = "CompanyOS"

    def ready(self):
        from django.urls import register_converter

        from . import audit, logins  # noqa: F401  (registers models with auditlog, signal receivers)
        from .converters import RowIdConverter

        register_converter(RowIdConverter, "id")  # `<id:pk>`: a bigint-bounded <int:pk>
