"""python manage.py erase_requester --requester ID --reason "…" [--by USERNAME]: erase a contact (cases.erasure)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases import erasure
from companyos.roles import acting_as, system_user


class Command(BaseCommand):
    help = "Erase a requester's personal data (right to be forgotten); keeps the cases' metrics and SLA history."

    def add_arguments(self, parser):
        parser.add_argument("--requester", type=int, required=True)
        parser.add_argument("--reason", required=True, help="why: the request and its reference (recorded)")
        parser.add_argument("--by", default="", help="the admin doing it (username); default: the system user")

    def handle(self, *args, requester, reason, by, **options):
        actor = get_user_model().objects.filter(username=by).first() if by else system_user()
        if actor is None:
            raise CommandError(f"No user {by!r}.")
        if erasure.requester_of(requester) is None:
            raise CommandError(f"No requester {requester}.")
        try:
            with acting_as(actor):
                record = erasure.requester_erase(requester_id=requester, actor=actor, reason=reason)
        except erasure.ErasureError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased contact {requester}: {record.cases} cases, {record.messages} messages redacted, "
                f"{record.attachments} attachments deleted."
            )
        )
