from django.apps import AppConfig


class CompanyOSConfig(AppConfig):
    name = "companyos"
    verbose_name = "CompanyOS"

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.urls import register_converter

        from . import audit, logins  # noqa: F401  (registers models with auditlog, signal receivers)
        from .converters import RowIdConverter
        from .db_roles import grant_after_migrate

        post_migrate.connect(grant_after_migrate, dispatch_uid="companyos.grant_after_migrate")
        register_converter(RowIdConverter, "id")  # `<id:pk>`: a bigint-bounded <int:pk>

        from auditlog.registry import auditlog

        from . import retention_rules
        from .models import PurgeRecord

        auditlog.register(PurgeRecord)  # every dry run and purge of a retention rule is on the trail
        retention_rules.register()  # the audit trail's partitions (the other apps register theirs)
