from django.apps import AppConfig


class CompanyOSConfig(AppConfig):
    name = "companyos"
    verbose_name = "CompanyOS"

    def ready(self):
        from . import audit  # noqa: F401  (registers models with auditlog, signal receivers)
