import json

from django.core.management.base import BaseCommand, CommandError

from runbooks.copilot import evaluation


class Command(BaseCommand):
    help = (
        "Evaluate the triage copilot on a labelled JSONL file (one ticket a line). The model is trained on "
        "the shipped training set (or --train) minus every ticket of FILE."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
        parser.add_argument(
            "--predictions", metavar="OUT.jsonl", help="write what the copilot proposed, a line a ticket"
        )
        parser.add_argument(
            "--train", metavar="TRAIN.jsonl", help="training tickets (default: the shipped train.jsonl)"
        )

    def handle(self, *args, **options):
        try:
            figures, predictions = evaluation.run(options["file"], train_path=options["train"])
        except (OSError, evaluation.EvalError) as error:
            raise CommandError(str(error)) from None
        if options["predictions"]:
            with open(options["predictions"], "w") as out:
                for row in predictions:
                    out.write(json.dumps(row) + "\n")
        self.stdout.write(json.dumps(figures) if options["json"] else evaluation.render(figures))
