from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with `admin.site` an audited site (companyos.admin_audit). In a module of
    its own: companyos.apps may hold only the companyos app's config."""

    default_site = "companyos.admin_audit.AuditedAdminSite"
