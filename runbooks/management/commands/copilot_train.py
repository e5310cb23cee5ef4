from django.core.management.base import BaseCommand, CommandError

from runbooks.copilot import evaluation, services


class Command(BaseCommand):
    help = (
        "Train the triage copilot's model and store it as the next version: on the shipped training set plus "
        "the cases whose classification an agent confirmed, or on FILE.jsonl. Prints the version, the number of "
        "examples and the time; --cv prints 5-fold cross-validated figures on the training set instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="labelled tickets (the evaluation file's format) to train on instead")
        parser.add_argument("--cv", action="store_true", help="cross-validate on the training set, store nothing")

    def handle(self, *args, **options):
        try:
            tickets = evaluation.load(options["file"]) if options["file"] else None
        except (OSError, evaluation.EvalError) as error:
            raise CommandError(str(error)) from None
        if options["cv"]:
            figures = evaluation.cross_validate(tickets or evaluation.load(evaluation.DATA / "train.jsonl"))
            self.stdout.write(evaluation.render(figures))
            return
        row = services.copilot_train(tickets=tickets, source=options["file"] or "")
        self.stdout.write(f"copilot model v{row.version}: {row.examples} examples, {row.seconds:.1f} s")
