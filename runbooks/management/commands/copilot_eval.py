import json

from django.core.management.base import BaseCommand, CommandError

from runbooks.copilot import evaluation


class Command(BaseCommand):
    help = (
        "Evaluate the triage copilot on a labelled JSONL file (one ticket a line). The model is trained on "
        "the shipped training set (or --train) minus every ticket of FILE. With --tenant (and no FILE): the "
        "tenant's own model against the global one, on a held-out fifth of the tenant's confirmed cases."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
        parser.add_argument(
            "--predictions", metavar="OUT.jsonl", help="write what the copilot proposed, a line a ticket"
        )
        parser.add_argument(
            "--train", metavar="TRAIN.jsonl", help="training tickets (default: the shipped train.jsonl)"
        )
        parser.add_argument(
            "--tenant", metavar="SLUG", help="compare the tenant's own model with the global one on its cases"
        )

    def handle(self, *args, **options):
        if options["tenant"]:
            return self._tenant(options)
        if not options["file"]:
            raise CommandError("Give a labelled FILE.jsonl, or --tenant SLUG.")
        try:
            figures, predictions = evaluation.run(options["file"], train_path=options["train"])
        except (OSError, evaluation.EvalError) as error:
            raise CommandError(str(error)) from None
        if options["predictions"]:
            with open(options["predictions"], "w") as out:
                for row in predictions:
                    out.write(json.dumps(row) + "\n")
        self.stdout.write(json.dumps(figures) if options["json"] else evaluation.render(figures))

    def _tenant(self, options):
        from runbooks.copilot import selectors
        from tenants.models import Tenant

        slug = options["tenant"]
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No tenant {slug!r}.")
        own = selectors.confirmed_examples(tenant_id=tenant.pk)
        own_ids = {t["id"] for t in own}
        others = [t for t in selectors.confirmed_examples() if t["id"] not in own_ids]
        try:
            base = evaluation.load(options["train"] or evaluation.DATA / "train.jsonl")
            figures = evaluation.tenant_comparison(own, others, base)
        except (OSError, evaluation.EvalError) as error:
            raise CommandError(str(error)) from None
        figures["tenant_slug"] = slug
        self.stdout.write(json.dumps(figures) if options["json"] else evaluation.render_comparison(figures, slug))
