from django.conf import settings

from . import roles


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_console_admin": roles.is_admin(user),
        "sees_sla_dashboard": roles.sees_sla_dashboard(user),
        "sees_unmatched_mail": roles.sees_all_tenants(user),  # cases.channels.email.selectors.sees_unmatched
        "user_role": roles.primary_role(user),
        "priority_codes": settings.PRIORITY_DISPLAY_CODES,
    }
