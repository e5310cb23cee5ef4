from django.conf import settings
from django.core.cache import cache

from . import roles
from .backup import FAILED_KEY


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    is_admin = roles.is_admin(user)
    return {
        "is_console_admin": is_admin,
        # A failed nightly backup, until one succeeds (companyos.tasks.nightly_backup_task): admins only.
        "backup_failure": cache.get(FAILED_KEY) if is_admin else None,
        "sees_sla_dashboard": roles.sees_sla_dashboard(user),
        "sees_unmatched_mail": roles.sees_all_tenants(user),  # cases.channels.email.selectors.sees_unmatched
        "user_role": roles.primary_role(user),
        "priority_codes": settings.PRIORITY_DISPLAY_CODES,
    }
